#!/usr/bin/perl

# DNS SRV discovery against a real DNS server: dnsmasq, started by the
# test on a free port of 127.0.0.1 (never port 53, never the system's
# configuration: --no-resolv, --no-hosts, a configuration file of the
# test's own), serves SRV records for engram nodes on 127.0.0.x.
#
# A node configured with "dns_srv" and "resolver" only finds the nodes of
# the records and joins them; an address the server learns later (its
# hosts file re-read on SIGHUP) is joined at the next refresh, and a
# record removed (dnsmasq re-reads srv-host only when it starts: it is
# restarted on the same port) is no longer among the peers.  The health
# endpoint shows the method "dns" with its last result, and its error
# while the server is down; a reload (HUP) with another SRV name asks for
# it at once, the node staying a member; ENGRAM_CLUSTER_DNS_SRV overrides
# the file.  Every error of the directive is checked with "engram -t".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);
use Engram qw(wait_for free_port http_json cluster_members metrics
              run_command cluster_conf_test);


my $DNSMASQ = '/usr/sbin/dnsmasq';
my $SRV = '_engram._tcp.test';

# engram -V lists the modules built in: the method, and the JSON API
my $BUILT = run_command([Engram->new->binary, '-V'], timeout => 10);
my $MODULES = $BUILT->{stderr} . $BUILT->{stdout};

my $NO_MODULE =
    $MODULES !~ /eg_discovery_dns_module/
        ? 'engram is built without the DNS discovery module'
    : $MODULES !~ /eg_http_cluster_module/
        ? 'engram is built without the cluster API module'
    : '';


###########################################################################
# the directive



subtest 'the dns_srv directive refuses what it cannot use' => sub {
    plan skip_all => $NO_MODULE if $NO_MODULE;

    my $in = 'in "dns_srv" directive';
    my $name = 'it must be a DNS name such as _engram._tcp.example.com';
    my @bad = (
        [ 'dns_srv "";', qq{invalid name "" $in, $name} ],
        [ 'dns_srv _engram._tcp..test;',
          qq{invalid name "_engram._tcp..test" $in, $name} ],
        [ 'dns_srv "_engram _tcp.test";',
          qq{invalid name "_engram _tcp.test" $in, $name} ],
        [ 'dns_srv _engram._tcp.' . ('a' x 64) . ';',
          qq{invalid name "_engram._tcp.} . ('a' x 64) . qq{" $in, $name} ],
        [ 'dns_srv .;', qq{invalid name "." $in, $name} ],
        [ "dns_srv $SRV every=1s;", qq{invalid parameter "every=1s" $in} ],
        [ "dns_srv $SRV refresh=0;",
          qq{invalid refresh "0" $in, it must be a time of more than 0} ],
        [ "dns_srv $SRV refresh=soon;",
          qq{invalid refresh "soon" $in, it must be a time of more than 0} ],
        [ "dns_srv $SRV refresh=1s 7946;",
          'invalid number of arguments in "dns_srv" directive' ],
        [ "dns_srv $SRV; dns_srv _other._tcp.test;",
          '"dns_srv" directive is duplicate' ],
    );

    for my $case (@bad) {
        my ($directive, $text) = @$case;
        my ($r, $where) = cluster_conf_test($directive);

        isnt($r->{exit}, 0, "$directive: engram -t fails");
        like($r->{stderr}, qr/\[emerg\] \Q$text in $where\E$/m,
             "$directive: the error says why, and where");
    }

    my ($r) = cluster_conf_test("dns_srv $SRV. refresh=500ms;");
    is($r->{exit}, 0, 'a name with the final dot and a refresh is taken')
        or diag($r->{stderr});

    ($r) = cluster_conf_test("dns_srv $SRV;",
                     env => { ENGRAM_CLUSTER_DNS_SRV => 'bad..name' });
    isnt($r->{exit}, 0, 'a bad ENGRAM_CLUSTER_DNS_SRV fails engram -t');
    my $env = 'in environment variable ENGRAM_CLUSTER_DNS_SRV';

    like($r->{stderr},
         qr/\[emerg\] \Qinvalid name "bad..name" $in, $name, $env\E$/m,
         'the error names the variable');

    ($r) = cluster_conf_test("dns_srv $SRV;",
                     env => { ENGRAM_CLUSTER_DNS_SRV =>
                              "$SRV refresh=x" });
    my $text = qq{invalid refresh "x" $in, it must be a time of more }
               . "than 0, $env";

    like($r->{stderr}, qr/\[emerg\] \Q$text\E$/m,
         'the refresh of ENGRAM_CLUSTER_DNS_SRV is checked too');
};


###########################################################################
# dnsmasq

if ($NO_MODULE || !-x $DNSMASQ) {
    diag($NO_MODULE || "no $DNSMASQ (Debian package dnsmasq-base)",
         ': the rest is skipped');
    done_testing;
    exit 0;
}

# dnsmasq may drop to "nobody", which must read the files after SIGHUP
my $dir = tempdir('engram-dns-XXXXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{TEST_ENGRAM_LEAVE});
chmod 0755, $dir or die "chmod $dir: $!";

my $dns_port = free_port();
my $dns_pid;


sub write_dns_file {
    my ($name, $content) = @_;

    open my $fh, '>', "$dir/$name" or die "open $dir/$name: $!";
    print {$fh} $content;
    close $fh or die "close $dir/$name: $!";
    chmod 0644, "$dir/$name";
}


# the SRV records ([target, port, priority, weight], ...): read at start
sub write_srv {
    write_dns_file('dnsmasq.conf',
                   join '', map { "srv-host=$SRV,$_->[0],$_->[1],$_->[2],"
                                  . "$_->[3]\n" } @_);
}


# the addresses ([ip, name], ...): re-read on SIGHUP
sub write_hosts {
    write_dns_file('hosts', join '', map { "$_->[0] $_->[1]\n" } @_);
}


# A DNS query for $name of $type over UDP to dnsmasq: (rcode, answers),
# nothing if no answer came within a second
sub dns_query {
    my ($name, $type) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$dns_port",
                                     Proto => 'udp') or return;

    my $q = pack('nnnnnn', 0x4567, 0x0100, 1, 0, 0, 0)
            . join('', map { chr(length $_) . $_ } split /\./, $name)
            . "\0" . pack('nn', $type, 1);

    $sock->send($q) or return;

    return unless IO::Select->new($sock)->can_read(1);

    my $r;
    $sock->recv($r, 4096) or return;
    return if length $r < 12;

    my (undef, $flags, undef, $an) = unpack('nnnn', $r);

    return ($flags & 0xf, $an);
}


sub dnsmasq_start {
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>>', "$dir/dnsmasq.out";
        open STDERR, '>&', \*STDOUT;

        exec $DNSMASQ, '--keep-in-foreground', '--no-resolv', '--no-hosts',
             "--port=$dns_port", '--listen-address=127.0.0.1',
             '--bind-interfaces', "--conf-file=$dir/dnsmasq.conf",
             "--addn-hosts=$dir/hosts", "--pid-file=$dir/dnsmasq.pid",
             # names of .test it does not know are NXDOMAIN, not REFUSED
             '--local=/test/',
             # the answers expire in a second: engram asks again then
             '--local-ttl=1',
             "--log-facility=$dir/dnsmasq.log", '--log-queries';
        exit 127;
    }

    $dns_pid = $pid;

    my $up = wait_for(sub {
        die "dnsmasq exited: " . `cat $dir/dnsmasq.out`
            if waitpid($pid, WNOHANG) == $pid;
        my ($rcode) = dns_query($SRV, 33);
        return defined $rcode;
    });

    die "dnsmasq does not answer on 127.0.0.1:$dns_port\n" unless $up;
}


sub dnsmasq_stop {
    return unless $dns_pid;

    kill 'TERM', $dns_pid;
    waitpid($dns_pid, 0);
    $dns_pid = undef;
}


END { dnsmasq_stop() }


###########################################################################
# the nodes

my %CLUSTER_TIMINGS = %Engram::CLUSTER_TIMINGS;

my @ids = qw(n1 n2 n3 n4);
my %ip = (n1 => '127.0.0.81', n2 => '127.0.0.82', n3 => '127.0.0.83',
          n4 => '127.0.0.84', n5 => '127.0.0.85');
my %n = map { $_ => Engram->new } @ids, 'n5';


# a node that finds its peers by DNS only: no seeds
sub dns_node {
    my ($id, $dns_srv) = @_;

    my $t = $n{$id};
    my $timings = join '', map { "    $_ $CLUSTER_TIMINGS{$_};\n" }
                           sort keys %CLUSTER_TIMINGS;

    $t->{gossip_ip} = $ip{$id};

    $t->write_config(<<"END");
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 64; }
cluster {
    node_id $id;
    listen $ip{$id}:%%PORT_gossip%%;
    dns_srv $dns_srv;
    resolver 127.0.0.1:$dns_port;
$timings}
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /metrics { metrics; }
        location = /cluster/discovery/health { discovery_health; }
    }
}
END
}


sub health {
    my ($id) = @_;
    return http_json($n{$id}->port('http'), '/cluster/discovery/health')
           // {};
}


sub dns_status {
    my ($id) = @_;
    my ($m) = grep { $_->{name} eq 'dns' } @{ health($id)->{methods} // [] };
    return $m // {};
}


sub members_of {
    my ($id) = @_;
    return cluster_members($n{$id}->port('http')) // {};
}


# whether $id lists exactly @want, all alive
sub lists {
    my ($id, @want) = @_;

    my $m = members_of($id);

    return join(',', sort keys %$m) eq join(',', sort @want)
           && !grep { ($m->{$_}{state} // '') ne 'alive' } @want;
}


sub srv_of {
    my ($id, $prio) = @_;
    return [ "$id.test", $n{$id}->port('gossip'), $prio, 10 ];
}


# n1 and n2 form a cluster by their seeds; n4 is a cluster of one; the
# records name n1, n2 and n4, but only n1 and n2 have addresses yet
$n{$_}->write_cluster_config(id => $_, ip => $ip{$_},
                             seeds => [ @n{qw(n1 n2)} ])
    for qw(n1 n2);
$n{n4}->write_cluster_config(id => 'n4', ip => $ip{n4});
dns_node('n3', "$SRV refresh=1s");

write_srv(srv_of('n1', 10), srv_of('n2', 10), srv_of('n4', 20));
write_hosts([ $ip{n1}, 'n1.test' ], [ $ip{n2}, 'n2.test' ]);

dnsmasq_start();

$n{$_}->start for qw(n1 n2 n4 n3);


subtest 'a node finds the nodes of the SRV records and joins them' => sub {
    ok(wait_for(sub { lists('n3', qw(n1 n2 n3)) }),
       'n3 lists n1, n2 and itself alive')
        or diag(explain(members_of('n3')));

    ok(wait_for(sub { lists('n1', qw(n1 n2 n3)) }),
       'n1 lists n3 too: the join went round');

    my $h = health('n3');
    ok($h->{enabled}, 'discovery is enabled');
    is($h->{method}, 'dns', 'the method that found them is dns');

    my $s = dns_status('n3');
    is($s->{result}, 'found', 'dns found peers');
    is($s->{peers}, 2, 'two: n4 has no address yet');
    is($s->{error}, undef, 'no error');
    ok($s->{last}, 'the time of the last lookup is set');

    ok(lists('n4', 'n4'), 'n4, in the records but unresolved, is alone');
};


subtest 'an address the DNS server learns on SIGHUP is joined' => sub {
    write_hosts([ $ip{n1}, 'n1.test' ], [ $ip{n2}, 'n2.test' ],
                [ $ip{n4}, 'n4.test' ]);
    kill 'HUP', $dns_pid;

    ok(wait_for(sub { (dns_query('n4.test', 1))[1] }),
       'dnsmasq answers for n4.test after SIGHUP');

    # one refresh later (1 s, the TTL too), n3 finds n4 and joins it
    ok(wait_for(sub { lists('n3', @ids) }), 'n3 lists all four alive')
        or diag(explain(members_of('n3')));
    ok(wait_for(sub { lists('n4', @ids) }),
       'n4 is no longer alone: the clusters merged');

    ok(wait_for(sub { (dns_status('n3')->{peers} // 0) == 3 }),
       'dns finds three peers');
};


subtest 'a record removed is no longer among the peers' => sub {
    my $before = dns_status('n3')->{attempts} // 0;

    # srv-host is read only at start: a new dnsmasq on the same port
    dnsmasq_stop();
    write_srv(srv_of('n2', 10), srv_of('n4', 20));
    dnsmasq_start();

    ok(wait_for(sub { (dns_status('n3')->{peers} // 0) == 2 }),
       'dns finds two peers: n2 and n4')
        or diag(explain(dns_status('n3')));

    cmp_ok(dns_status('n3')->{attempts}, '>', $before,
           'the lookups went on');
    is(dns_status('n3')->{result}, 'found', 'the last one found peers');

    # n1 is still a member: discovery finds peers, gossip keeps members
    ok(lists('n3', @ids), 'n3 still lists all four');
};


subtest 'with the DNS server down, the health endpoint says why' => sub {
    dnsmasq_stop();

    ok(wait_for(sub { (dns_status('n3')->{result} // '') eq 'error' }),
       'the dns lookup fails')
        or diag(explain(dns_status('n3')));

    like(dns_status('n3')->{error} // '',
         qr/^\Q$SRV\E: (?:connection refused|timed out)$/,
         'the error names the SRV name and what happened');

    ok(lists('n3', @ids), 'the members stay');

    dnsmasq_start();

    ok(wait_for(sub { (dns_status('n3')->{result} // '') eq 'found' }),
       'with the server back, dns finds peers again');
    is(dns_status('n3')->{error}, undef, 'and the error is gone');
};


subtest 'the discovery metrics count the dns lookups' => sub {
    my $m = metrics($n{n3}->port('http')) // {};

    cmp_ok($m->{'engram_discovery_attempts_total{method="dns"}'} // 0,
           '>=', 3, 'engram_discovery_attempts_total{method="dns"}');
    cmp_ok($m->{'engram_discovery_successes_total{method="dns"}'} // 0,
           '>=', 2, 'engram_discovery_successes_total{method="dns"}');
    cmp_ok($m->{'engram_discovery_duration_seconds_count{method="dns"}'}
           // 0, '>=', 3, 'engram_discovery_duration_seconds{method="dns"}');
};


# HUP with a new configuration; waits for the new cluster process
sub reload {
    my ($id) = @_;

    my $t = $n{$id};
    my $old = $t->cluster_pid;

    ok($t->signal('HUP'), "HUP to $id");

    my $new;
    ok(wait_for(sub {
           $new = $t->cluster_pid;
           return $new && $new != $old;
       }), "$id has a new cluster process");
}


subtest 'HUP with another SRV name applies it at once' => sub {
    dns_node('n3', '_other._tcp.test refresh=1s');
    reload('n3');

    ok(wait_for(sub {
           (dns_status('n3')->{error} // '') eq '_other._tcp.test: NXDOMAIN'
       }), 'the new name is asked for, and the server knows it not')
        or diag(explain(dns_status('n3')));

    ok(lists('n3', @ids), 'n3 is still a member, with all four');

    dns_node('n3', "$SRV refresh=1s");
    reload('n3');

    ok(wait_for(sub { (dns_status('n3')->{result} // '') eq 'found' }),
       'back to the first name, dns finds peers again');
};


subtest 'ENGRAM_CLUSTER_DNS_SRV overrides the file' => sub {
    # the file names a service no one offers; the variable the real one
    dns_node('n5', '_nothing._tcp.test');
    $n{n5}->start(env => { ENGRAM_CLUSTER_DNS_SRV => "$SRV refresh=1s" });

    ok(wait_for(sub { lists('n5', @ids, 'n5') }),
       'n5 finds the cluster by the name in the variable')
        or diag(explain(members_of('n5')), explain(dns_status('n5')));

    is(dns_status('n5')->{result}, 'found', 'its dns lookup found peers');
};


$n{$_}->stop for qw(n5 n3 n4 n2 n1);

done_testing;
