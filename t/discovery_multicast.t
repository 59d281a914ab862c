#!/usr/bin/perl

# Multicast discovery: the "multicast" directive refuses what it cannot
# use, and nodes in network namespaces on one bridge find each other on
# a group and join, with no seed: in clear, with a keyring (a node with
# another key, or none, is not heard and its announcements are counted as
# dropped), and on an IPv6 link-local group.
#
# The network is ours alone (t/lib/EngramNet.pm): a namespace holding a
# bridge, and one namespace per node with a veth to it, 10.199.0.0/24 and
# fd99:199::/64; nothing is sent outside them, and they are deleted at
# the end whatever happens. That part needs root and "ip netns" (CI runs
# as root); without them it is skipped, saying why.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics run_command
              cluster_conf_test);
use EngramNet;


# engram -V lists the modules built in
my $BUILT = run_command([Engram->new->binary, '-V'], timeout => 10);
my $NO_MODULE = ($BUILT->{stderr} . $BUILT->{stdout})
                =~ /eg_discovery_mcast_module/
                ? '' : 'engram is built without the multicast discovery module';


###########################################################################
# the directive



subtest 'the multicast directive refuses what it cannot use' => sub {
    plan skip_all => $NO_MODULE if $NO_MODULE;

    # the directive, and what the error says before " in FILE:LINE"
    my $mc = 'in "multicast" directive';
    my @bad = (
        [ 'multicast 10.0.0.1:7946;',
          qq{"10.0.0.1:7946" $mc is not a multicast group} ],
        [ 'multicast [2001:db8::1]:7946;',
          qq{"[2001:db8::1]:7946" $mc is not a multicast group} ],
        [ 'multicast eg-no-such-host:7946;',
          qq{"eg-no-such-host:7946" $mc is not a multicast group} ],
        [ 'multicast 239.1.2.3:70000;',
          'in "239.1.2.3:70000" of the "multicast" directive' ],
        [ 'multicast [ff02::4245]:7946;',
          'the group "[ff02::4245]:7946" of the "multicast" directive '
          . 'is link-local: it needs "interface=NAME"' ],
        [ 'multicast interval=10ms;',
          qq{invalid interval "10ms" $mc, it must be 100ms to 1h} ],
        [ 'multicast interval=2h;',
          qq{invalid interval "2h" $mc, it must be 100ms to 1h} ],
        [ 'multicast ttl=256;',
          qq{invalid ttl "256" $mc, it must be 0 to 255} ],
        [ 'multicast interface=eg-nosuch0;',
          qq{unknown interface "eg-nosuch0" $mc} ],
        [ 'multicast loud=yes;',
          qq{invalid parameter "loud=yes" $mc} ],
        [ 'multicast interval=1s 239.1.2.3;',
          qq{invalid parameter "239.1.2.3" $mc} ],
        [ 'multicast ttl=2 ttl=3;',
          qq{duplicate parameter "ttl=3" $mc} ],
        [ 'multicast on; multicast off;',
          '"multicast" directive is duplicate' ],
    );

    for my $case (@bad) {
        my ($directive, $text) = @$case;
        my ($r, $where) = cluster_conf_test($directive);

        isnt($r->{exit}, 0, "\"$directive\" fails the test");
        like($r->{stderr}, qr/\[emerg\] .*\Q$text\E.* in \Q$where\E\n/,
             "\"$directive\": the error says why and where");
    }

    for my $good ('multicast;', 'multicast on;', 'multicast off;',
                  'multicast 239.255.42.99:7946 interval=5s ttl=1;',
                  'multicast [ff05::4245]:7946 ttl=0 interval=500ms;',
                  'multicast [ff02::4245] interface=lo;')
    {
        my ($r) = cluster_conf_test($good);
        is($r->{exit}, 0, "\"$good\" passes the test")
            or diag($r->{stderr});
    }
};


subtest 'ENGRAM_CLUSTER_MULTICAST overrides the directive' => sub {
    plan skip_all => $NO_MODULE if $NO_MODULE;

    my ($r) = cluster_conf_test('multicast 10.0.0.1;',
                        env => { ENGRAM_CLUSTER_MULTICAST =>
                                 '239.1.2.3:7000, interval=2s' });
    is($r->{exit}, 0, 'the variable replaces a directive that is wrong')
        or diag($r->{stderr});

    ($r) = cluster_conf_test('multicast;',
                     env => { ENGRAM_CLUSTER_MULTICAST => 'ttl=x' });
    isnt($r->{exit}, 0, 'a wrong variable fails the test');
    my $text = 'invalid ttl "x" in "multicast" directive, it must be 0 '
               . 'to 255, in environment variable ENGRAM_CLUSTER_MULTICAST';
    like($r->{stderr}, qr/\[emerg\] \Q$text\E\n/,
         'the error names the variable');
};


###########################################################################
# the network: t/lib/EngramNet.pm, four namespaces on a bridge

my $net;

sub ip { $net->ip(@_) }

sub in_netns { $net->in_netns(@_) }


###########################################################################
# nodes in namespaces

my %NS;                 # instance => its namespace


# a node with its gossip on $ip in $ns, and "multicast $multicast"; its
# options: key (a keyring of that key), extra (more cluster directives)
sub node {
    my ($ns, $id, $ip, $multicast, %opts) = @_;

    my $t = Engram->new(wrap => ['ip', 'netns', 'exec', $ns]);
    $NS{$t} = $ns;

    my $keyring = '';

    if ($opts{key}) {
        $t->write_file('conf/gossip.keys', "$opts{key}\n");
        $keyring = ' keyring gossip.keys;';
    }

    $t->write_cluster_config(id => $id, ip => $ip,
                             cluster => "multicast $multicast;$keyring "
                                        . ($opts{extra} // ''));

    return $t;
}


sub ids_of {
    my ($t) = @_;

    my $m = in_netns($NS{$t}, sub { cluster_members($t->port('http')) });

    return join ',', sort keys %{ $m // {} };
}


sub sample {
    my ($t, $name) = @_;

    my $m = in_netns($NS{$t}, sub { metrics($t->port('http')) }) // {};

    return $m->{$name};
}


sub dropped {
    my ($t, $reason) = @_;
    return sample($t, 'engram_discovery_multicast_dropped_total'
                      . "{reason=\"$reason\"}") // 0;
}


sub stop_all {
    $_->stop for @_;
}


my $why = $NO_MODULE || EngramNet::unavailable(faults => 0);
my @ns;

if (!$why) {
    $net = eval {
        EngramNet->new(size => 4, ipv6 => 1, multicast => 1,
                       subnet => '10.199.0', subnet6 => 'fd99:199:');
    };
    $why = "cannot make the test network: $@" if $@;
    @ns = map { $net->ns($_) } 1 .. 4 if $net;
}


subtest 'nodes find each other on the default group and join' => sub {
    plan skip_all => $why if $why;

    # 239.255.42.99:7946, the port the gossip defaults to; n2 names its
    # interface, n1 lets the route to the group choose
    my @n = (node($ns[0], 'n1', '10.199.0.1', 'interval=1s'),
             node($ns[1], 'n2', '10.199.0.2', 'interval=1s interface=eth0'));

    $_->start for @n;

    ok(wait_for(sub { ids_of($n[0]) eq 'n1,n2'
                      && ids_of($n[1]) eq 'n1,n2' }),
       'n1 and n2 list each other, with no seed')
        or diag(ids_of($n[0]), ' / ', ids_of($n[1]));

    for my $t (@n) {
        ok($t->wait_for_log(qr/\[notice\]\ \d+\#0:\ multicast\ discovery\ on
                               \ 239\.255\.42\.99:7946(?:\ on\ eth0)?,
                               \ every\ 1000\ ms/x),
           'the node says where it listens');
        ok($t->wait_for_log(qr/discovery by multicast found 1 peer/),
           'the chain found the peer by multicast');
        ok(sample($t, 'engram_discovery_multicast_announcements_total'
                      . '{direction="sent"}') > 0, 'announcements are sent');
        ok(sample($t, 'engram_discovery_multicast_announcements_total'
                      . '{direction="received"}') > 0,
           'announcements are received');
    }

    ok($n[1]->wait_for_log(qr/multicast\ discovery:\ node\ "n1"
                              \ announces\ 10\.199\.0\.1:\d+/x),
       'n2 heard n1 announce its gossip address');

    stop_all(@n);
};


subtest 'announcements on the gossip port are not taken for gossip' =>
sub {
    plan skip_all => $why if $why;

    # gossip on every address, and the group on the same port: the gossip
    # socket must not receive the announcements (and drop them as foreign)
    my $port = Engram::free_port();
    my @n;

    for my $i (1, 2) {
        my $t = node($ns[$i - 1], "w$i", '0.0.0.0', "239.255.42.102:$port "
                                                   . 'interval=1s',
                     extra => "advertise 10.199.0.$i:$port;");
        $t->{ports}{gossip} = $port;
        $t->write_cluster_config(id => "w$i", ip => '0.0.0.0',
                                 cluster => "multicast 239.255.42.102:$port "
                                            . "interval=1s; advertise "
                                            . "10.199.0.$i:$port;");
        push @n, $t;
    }

    $_->start for @n;

    ok(wait_for(sub { ids_of($n[0]) eq 'w1,w2' && ids_of($n[1]) eq 'w1,w2' }),
       'w1 and w2 meet');

    sleep 3;

    for my $t (@n) {
        is(sample($t, 'engram_gossip_dropped_total{reason="magic"}') // 0, 0,
           'the gossip socket dropped no announcement');
    }

    stop_all(@n);
};


subtest 'a group that cannot be joined yet is retried' => sub {
    plan skip_all => $why if $why;

    # no route to the group: joining it fails until there is one
    ip('-n', $ns[3], 'route', 'del', '224.0.0.0/4', 'dev', 'eth0');

    my $group = '239.255.42.101:' . Engram::free_port() . ' interval=1s';

    # m1 has a route to the group; m4 has none until later
    my $m1 = node($ns[0], 'm1', '10.199.0.1', $group,
                  extra => 'discovery_refresh 1s;');
    my $m4 = node($ns[3], 'm4', '10.199.0.4', $group,
                  extra => 'discovery_refresh 1s;');

    $_->start for $m1, $m4;

    ok($m4->wait_for_log(qr/\[warn\]\ \d+\#0:\ discovery\ by\ multicast
                           \ failed:\ setsockopt\(IP_ADD_MEMBERSHIP\)\ for
                           \ the\ group\ 239\.255\.42\.101:\d+\ failed
                           \ \(19:\ No\ such\ device\)/x),
       'the lookup fails, and says why');
    is(ids_of($m4), 'm4', 'm4 lists only itself');

    ip('-n', $ns[3], 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');

    ok(wait_for(sub { ids_of($m1) eq 'm1,m4' && ids_of($m4) eq 'm1,m4' }),
       'with a route, a later lookup joins the group, and m1 and m4 meet');

    stop_all($m1, $m4);
};


my $key1 = 'L/D5TGQAAhAtR/D9qj5LoUO/LKtSotjksf0gHtQmJsE=';
my $key2 = 'q1Zxkq9n4m0cE1b2vYyJm0Xz7S0lqg2yXxq9hQm7kVA=';


subtest 'with a keyring, only nodes with the key are heard' => sub {
    plan skip_all => $why if $why;

    my $group = '239.255.42.100:' . Engram::free_port() . ' interval=1s';

    my $k1 = node($ns[0], 'k1', '10.199.0.1', $group, key => $key1);
    my $k2 = node($ns[1], 'k2', '10.199.0.2', $group, key => $key1);
    my $other = node($ns[2], 'other', '10.199.0.3', $group, key => $key2);
    my $plain = node($ns[3], 'plain', '10.199.0.4', $group);

    $_->start for $k1, $k2, $other, $plain;

    ok(wait_for(sub { ids_of($k1) eq 'k1,k2' && ids_of($k2) eq 'k1,k2' }),
       'k1 and k2, with the same key, list each other');

    ok(wait_for(sub { dropped($k1, 'decrypt') > 0
                      && dropped($k1, 'plaintext') > 0 }),
       'k1 drops the announcements of "other" (decrypt) and of "plain" '
       . '(plaintext)');
    ok(wait_for(sub { dropped($other, 'decrypt') > 0 }),
       '"other" drops those it cannot open');
    ok(wait_for(sub { dropped($plain, 'decrypt') > 0 }),
       '"plain", without keys, drops the sealed ones');

    ok($k1->wait_for_log(qr/\[info\]\ \d+\#0:\ multicast\ discovery:
                            \ dropped\ an\ announcement\ from\ 10\.199\.0\.3:\d+
                            \ sealed\ with\ a\ key\ this\ node\ does\ not\ have
                            \ \(decrypt,\ \d+\ so\ far\)/x),
       'k1 logs the drop, naming the sender');

    # a few more intervals: time for a mistake to show
    my $sent = sample($other, 'engram_discovery_multicast_announcements_total'
                              . '{direction="sent"}');
    wait_for(sub { sample($other,
                          'engram_discovery_multicast_announcements_total'
                          . '{direction="sent"}') >= $sent + 2 });

    is(ids_of($k1), 'k1,k2', 'k1 lists neither "other" nor "plain"');
    is(ids_of($k2), 'k1,k2', 'k2 lists neither "other" nor "plain"');
    is(ids_of($other), 'other', '"other" lists only itself');
    is(ids_of($plain), 'plain', '"plain" lists only itself');
    is(sample($other, 'engram_discovery_multicast_announcements_total'
                      . '{direction="received"}'), 0,
       '"other" accepted no announcement');
    ok(!$other->log_lines(qr/discovery by multicast found [1-9]/),
       '"other" found nobody to join');

    stop_all($k1, $k2, $other, $plain);
};


subtest 'nodes find each other on an IPv6 link-local group' => sub {
    plan skip_all => $why if $why;

    my $group = '[ff02::4245]:' . Engram::free_port()
                . ' interface=eth0 interval=1s';

    my @n = map { node($ns[$_ - 1], "v$_", "[fd99:199::$_]", $group) }
            1 .. 2;

    $_->start for @n;

    ok(wait_for(sub { ids_of($n[0]) eq 'v1,v2'
                      && ids_of($n[1]) eq 'v1,v2' }),
       'v1 and v2 list each other')
        or diag(ids_of($n[0]), ' / ', ids_of($n[1]));

    ok($n[0]->wait_for_log(qr/multicast\ discovery:\ node\ "v2"
                              \ announces\ \[fd99:199::2\]:\d+/x),
       'v1 heard v2 announce its IPv6 gossip address');

    stop_all(@n);
};


done_testing;
