#!/usr/bin/perl

# The gossip guard (./configure --with-bpf): eBPF programs that drop junk
# aimed at the gossip port in the kernel. Its directives refuse what they
# cannot use, on every build. With the programs built and root to load
# them: junk (a wrong magic, version or cluster hash, a datagram too
# short, a source outside the allow-list) sent to a node's gossip port is
# counted in engram_gossip_guard_dropped_total and never reaches the
# cluster process, whose engram_gossip_dropped_total stays as it is,
# while the nodes' own gossip passes and the cluster stays whole; with
# the guard off the cluster process counts the junk itself; a reload
# applies a new allow-list, a restarted cluster process carries on; a
# kernel that refuses the programs (here: engram started without
# CAP_BPF and CAP_SYS_ADMIN) gets a warning, once, and a node that works.
# Last, in two network namespaces of our own joined by a veth, the XDP
# program drops the junk at the driver, and leaves the interface when it
# is configured away or engram stops.
#
# Everything is sent on loopback addresses (127.0.0.161-164 for the
# nodes, 127.0.0.9 as the source outside the allow-list) or inside the
# namespaces (10.231.0.0/24), which are deleted at the end.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Engram qw(wait_for cluster_members metrics run_command
              cluster_conf_test);


my $V = run_command([Engram->new->binary, '-V'], timeout => 10);
my $INFO = $V->{stderr} . $V->{stdout};

plan skip_all => 'engram is built without cluster mode (--without-gossip)'
    unless $INFO =~ /eg_gossip_guard_module/;

my ($GUARD) = $INFO =~ /^gossip guard: (.*)$/m;
my $BUILT = defined $GUARD && $GUARD =~ /^bpf/;

like($INFO, qr/^gossip guard: (?:bpf \(libbpf \d+\.\d+\)|not built)$/m,
     'engram -V says whether the gossip guard is built, and with which '
     . 'libbpf');


###########################################################################
# the directives, on every build



subtest 'the directives refuse what they cannot use, naming file:line' =>
sub {
    my @bad = (
        [ 'gossip_guard maybe;',
          'invalid parameter "maybe" in "gossip_guard" directive, it must '
          . 'be "on", "off" or "xdp=INTERFACE"' ],
        [ 'gossip_guard off xdp=lo;',
          'invalid parameter "xdp=lo" in "gossip_guard" directive' ],
        [ 'gossip_guard on xdp=;',
          'invalid parameter "xdp=" in "gossip_guard" directive' ],
        [ 'gossip_guard xdp=lo xdp=lo;',
          'duplicate parameter "xdp=lo" in "gossip_guard" directive' ],
        [ 'gossip_guard on xdp=eg-nosuch0;',
          'unknown interface "eg-nosuch0" in "gossip_guard" directive' ],
        [ 'gossip_guard on; gossip_guard off;',
          '"gossip_guard" directive is duplicate' ],
        [ 'gossip_guard_allow 10.0.0.0/33;',
          'invalid value "10.0.0.0/33" in "gossip_guard_allow" directive, '
          . 'it must be an address or a CIDR block' ],
        [ 'gossip_guard_allow 127.0.0.0/8 example.com;',
          'invalid value "example.com" in "gossip_guard_allow" directive' ],
        [ 'gossip_guard_allow 2001:db8::/129;',
          'invalid value "2001:db8::/129" in "gossip_guard_allow"' ],
        [ 'gossip_guard_allow '
          . join(' ', map { "10.$_.0.0/16" } 0 .. 256 - 1) . ' 11.0.0.0/8;',
          'more than 256 IPv4 blocks in "gossip_guard_allow"',
          'gossip_guard_allow with 257 IPv4 blocks' ],
    );

    for my $case (@bad) {
        my ($directive, $text, $name) = @$case;
        my ($r, $where) = cluster_conf_test($directive);

        $name //= $directive;

        is($r->{exit}, 1, "refused: $name") or diag($r->{stderr});
        like($r->{stderr}, qr/\[emerg\] \Q$text\E.* in \Q$where\E$/m,
             "the error says why and where: $name")
            or diag($r->{stderr});
    }

    my ($r) = cluster_conf_test('gossip_guard on;',
                        env => { ENGRAM_CLUSTER_GOSSIP_GUARD_ALLOW =>
                                 '127.0.0.0/8, 300.1.1.1' });
    is($r->{exit}, 1, 'a bad block in the environment is refused');
    like($r->{stderr},
         qr/invalid value "300\.1\.1\.1" in "gossip_guard_allow" directive/,
         'a bad block in the environment is refused');
    like($r->{stderr},
         qr/, in environment variable ENGRAM_CLUSTER_GOSSIP_GUARD_ALLOW$/m,
         'the error names the variable');

    ($r, my $where) = cluster_conf_test('gossip_guard_allow 127.0.0.1/8;');
    is($r->{exit}, 0, 'a block with host bits is accepted');
    like($r->{stderr},
         qr/\[warn\] low address bits of 127\.0\.0\.1\/8 are meaningless/,
         'with a warning');
    like($r->{stderr}, qr/meaningless in \Q$where\E$/m,
         'with a warning');

    ($r) = cluster_conf_test('gossip_guard on xdp=lo; gossip_guard_allow '
                     . '127.0.0.0/8 ::1 fd00::/8;');
    is($r->{exit}, 0, 'xdp=lo, and IPv4 and IPv6 blocks, are accepted')
        or diag($r->{stderr});

    ($r) = cluster_conf_test('gossip_guard_allow 127.0.0.1;',
                     env => { ENGRAM_CLUSTER_GOSSIP_GUARD => 'on xdp=lo' });
    is($r->{exit}, 0, 'ENGRAM_CLUSTER_GOSSIP_GUARD="on xdp=lo" is accepted')
        or diag($r->{stderr});
};


###########################################################################
# junk and the counters

my $HASH = fnv1a('engram');


sub fnv1a {
    my ($s) = @_;

    my $h = 2166136261;

    for my $c (unpack 'C*', $s) {
        $h = (($h ^ $c) * 16777619) % 4294967296;
    }

    return $h;
}


# the header of a datagram: magic, version, flags, cluster hash
sub header {
    my (%h) = @_;
    return ($h{magic} // 'EGRM') . chr($h{version} // 1)
           . chr($h{flags} // 0) . pack('N', $h{cluster} // $HASH);
}


# what the guard drops, by reason: from 127.0.0.9 a datagram that would
# be gossip but for its source (an unknown message type follows)
my %JUNK = (
    magic   => [ '127.0.0.160', 'JUNK' . ('x' x 20) ],
    version => [ '127.0.0.160', header(version => 9) . 'xxxx' ],
    cluster => [ '127.0.0.160', header(cluster => $HASH ^ 1) . 'xxxx' ],
    short   => [ '127.0.0.160', 'EGR' ],
    source  => [ '127.0.0.9', header() . "\xff" ],
);

# junk of one kind from another source
sub junk_from {
    my ($kind, $from) = @_;
    return [ $from, $JUNK{$kind}[1] ];
}

my $N = 20;             # datagrams of each kind


# sends $N datagrams of each kind to "ip:port" (all kinds, or those named)
sub send_junk {
    my ($to, @kinds) = @_;

    @kinds = sort keys %JUNK unless @kinds;

    for my $kind (@kinds) {
        my ($from, $bytes) = @{ $JUNK{$kind} };

        my $s = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $from,
                                      PeerAddr => $to)
            or die "udp socket from $from to $to: $!";

        $s->send($bytes) // die "send to $to: $!" for 1 .. $N;
        close $s;
    }
}


sub samples {
    my ($t, $family) = @_;

    my $m = metrics($t->port('http')) // {};

    return { map { /^\Q$family\E\{reason="(\w+)"\}$/ ? ($1 => $m->{$_}) : () }
             keys %$m };
}


sub guard_dropped { samples($_[0], 'engram_gossip_guard_dropped_total') }
sub user_dropped { samples($_[0], 'engram_gossip_dropped_total') }


sub total {
    my ($h) = @_;
    my $sum = 0;
    $sum += $_ for values %$h;
    return $sum;
}


sub sample {
    my ($t, $name) = @_;
    return (metrics($t->port('http')) // {})->{$name};
}


# waits until each of the counters has grown by $N since $before
sub grew_by_n {
    my ($t, $which, $before, @reasons) = @_;

    my $now;

    my $ok = wait_for(sub {
        $now = $which->($t);
        return !grep { ($now->{$_} // 0) != ($before->{$_} // 0) + $N }
                @reasons;
    });

    diag(explain({ before => $before, now => $now })) unless $ok;

    return $ok;
}


# the first line of the error log matching $re, after the offset
sub log_after {
    my ($t, $re, $from) = @_;
    return $t->wait_for_log($re, from => $from);
}


# HUP with the configuration as it now is; waits for a new cluster
# process and returns the log offset from before the signal
sub reload {
    my ($t) = @_;

    my $old = $t->cluster_pid;
    my $from = $t->log_offset;

    ok($t->signal('HUP'), 'HUP');
    ok(wait_for(sub {
           my $new = $t->cluster_pid;
           return $new && $new != $old;
       }), 'a new cluster process runs');
    ok($t->wait_gone($old), 'the old one has exited');

    return $from;
}


###########################################################################
# a build without the programs

if (!$BUILT) {
    subtest 'without the programs, "gossip_guard on" warns once and the '
            . 'node runs, checking datagrams in user space' => sub {
        my $t = Engram->new;
        $t->write_cluster_config(id => 'solo', ip => '127.0.0.161',
                                 cluster => 'gossip_guard on;');
        $t->start;

        my $where = $t->path('conf/engram.conf');
        my @warn = $t->log_lines(
            qr/\[warn\] .*"gossip_guard" is on, but this engram is built/);
        is(scalar @warn, 1, 'one warning') or diag($t->error_log);
        like($warn[0] // '', qr/user space only in \Q$where\E:\d+$/,
             'naming the directive');

        my $before = user_dropped($t);
        send_junk($t->gossip_addr, qw(magic cluster));
        ok(grew_by_n($t, \&user_dropped, $before, qw(magic cluster)),
           'the cluster process counts the junk');

        ok($t->stop, 'the node stops');
    };

    done_testing;
    exit 0;
}

if ($> != 0) {
    plan skip_all => 'loading the gossip guard needs root';
}


###########################################################################
# three nodes on loopback, n0 guarded

my @ids = qw(n0 n1 n2);
my @n = map { Engram->new } @ids;
my $ALLOW = 'gossip_guard_allow 127.0.0.160/29;';

for my $i (0 .. $#n) {
    $n[$i]->write_cluster_config(
        id => $ids[$i], ip => '127.0.0.' . (161 + $i), seeds => [$n[0]],
        cluster => $i == 0 ? "gossip_guard on; $ALLOW" : '');
}

$_->start for @n;


sub lists_all_alive {
    my ($t) = @_;

    my $m = cluster_members($t->port('http')) // {};

    return join(',', sort keys %$m) eq join(',', @ids)
           && !grep { $m->{$_}{state} ne 'alive' } @ids;
}


subtest 'with the guard on, the nodes\' gossip passes: a cluster forms' =>
sub {
    for my $i (0 .. $#n) {
        ok(wait_for(sub { lists_all_alive($n[$i]) }),
           "$ids[$i] lists n0, n1 and n2 alive");
    }

    my $re = qr/socket filter on 127\.0\.0\.161:\d+, 1 allowed blocks$/;
    ok($n[0]->log_lines(qr/\[notice\] .*gossip guard: $re/),
       'n0 logs the socket filter and its allow-list');
    ok(wait_for(sub {
           (sample($n[0], 'engram_gossip_guard_attached{hook="socket"}')
            // -1) == 1
       }), 'engram_gossip_guard_attached{hook="socket"} is 1');
    is(sample($n[0], 'engram_gossip_guard_attached{hook="xdp"}'), 0,
       'engram_gossip_guard_attached{hook="xdp"} is 0');
    is(total(guard_dropped($n[0])), 0, 'the guard has dropped nothing yet');
    is(sample($n[1], 'engram_gossip_guard_attached{hook="socket"}'), 0,
       'the guard is off on n1');
};


subtest 'junk is dropped in the kernel, by reason, and never reaches the '
        . 'cluster process' => sub {
    my $user = user_dropped($n[0]);
    my $guard = guard_dropped($n[0]);

    send_junk($n[0]->gossip_addr);

    ok(grew_by_n($n[0], \&guard_dropped, $guard, sort keys %JUNK),
       "engram_gossip_guard_dropped_total grew by $N for each of "
       . join(', ', sort keys %JUNK));

    is_deeply(user_dropped($n[0]), $user,
              'engram_gossip_dropped_total did not move');
    is(total(samples($n[0], 'engram_gossip_guard_xdp_dropped_total')), 0,
       'no XDP program, no XDP drops');

    ok(lists_all_alive($_), 'the cluster is whole') for @n;
};


subtest 'a cluster process that crashes is replaced, guard and counts '
        . 'included' => sub {
    my $old = $n[0]->cluster_pid;
    my $guard = guard_dropped($n[0]);

    ok($n[0]->signal('KILL', $old), 'kill -9 of the cluster process');
    ok(wait_for(sub {
           my $new = $n[0]->cluster_pid;
           return $new && $new != $old;
       }), 'the master starts another');

    my $after = guard_dropped($n[0]);
    sleep 1.5;     # a publication or more of the new cluster process
    is_deeply(guard_dropped($n[0]), $guard,
              'nothing counted twice by the new one');

    send_junk($n[0]->gossip_addr, qw(magic cluster));
    ok(grew_by_n($n[0], \&guard_dropped, $guard, qw(magic cluster)),
       'the new one drops and counts');

    $n[0]->allow_log(qr/cluster process \d+ exited on signal 9/);
};


subtest 'HUP with another allow-list applies it' => sub {
    $n[0]->write_cluster_config(
        id => 'n0', seeds => [$n[0]],
        cluster => "gossip_guard on; $ALLOW gossip_guard_allow 127.0.0.9;");

    my $from = reload($n[0]);
    ok(log_after($n[0], qr/socket filter on \S+, 2 allowed blocks$/, $from),
       'the new cluster process attaches the new filter');

    # from 127.0.0.9 now: gossip of this cluster to the guard, junk to
    # the cluster process (an unknown message type); junk to the guard
    # when its magic is wrong

    local $JUNK{magic} = junk_from('magic', '127.0.0.9');

    my $guard = guard_dropped($n[0]);
    my $user = user_dropped($n[0]);

    send_junk($n[0]->gossip_addr, qw(source magic));

    ok(grew_by_n($n[0], \&user_dropped, $user, 'unknown'),
       "a header of this cluster from 127.0.0.9 reaches the cluster "
       . "process: $N more dropped there as unknown");
    ok(grew_by_n($n[0], \&guard_dropped, $guard, 'magic'),
       "a wrong magic from 127.0.0.9 is dropped as magic: $N more");
    is(guard_dropped($n[0])->{source}, $guard->{source},
       'none as source');

    # and back: 127.0.0.9 is outside again

    $n[0]->write_cluster_config(id => 'n0', seeds => [$n[0]],
                                cluster => "gossip_guard on; $ALLOW");

    $from = reload($n[0]);
    ok(log_after($n[0], qr/socket filter on \S+, 1 allowed blocks$/, $from),
       'the next reload takes 127.0.0.9 off the list');

    $guard = guard_dropped($n[0]);
    $user = user_dropped($n[0]);

    send_junk($n[0]->gossip_addr, qw(source magic));

    ok(wait_for(sub {
           guard_dropped($n[0])->{source} == $guard->{source} + 2 * $N
       }), 'all of it from 127.0.0.9 is dropped as source: ' . 2 * $N
           . ' more');
    is(guard_dropped($n[0])->{magic}, $guard->{magic}, 'none as magic');
    is_deeply(user_dropped($n[0]), $user,
              'the cluster process saw none of it');

    ok(lists_all_alive($_), 'the cluster is whole') for @n;
};


subtest 'with the guard off, the cluster process counts the junk itself'
        => sub {
    $n[0]->write_cluster_config(id => 'n0', seeds => [$n[0]],
                                cluster => $ALLOW);
    reload($n[0]);

    ok(wait_for(sub {
           (sample($n[0], 'engram_gossip_guard_attached{hook="socket"}')
            // -1) == 0
       }), 'engram_gossip_guard_attached{hook="socket"} is 0');

    my $guard = guard_dropped($n[0]);
    my $user = user_dropped($n[0]);

    send_junk($n[0]->gossip_addr);

    ok(grew_by_n($n[0], \&user_dropped, $user,
                 qw(magic version cluster short unknown)),
       "engram_gossip_dropped_total grew by $N for each of magic, "
       . 'version, cluster, short, and unknown (from 127.0.0.9)');
    is_deeply(guard_dropped($n[0]), $guard,
              'engram_gossip_guard_dropped_total did not move');

    ok(lists_all_alive($_), 'the cluster is whole') for @n;
};


subtest 'a kernel that refuses the programs: a warning, once, and a node '
        . 'that works' => sub {
    my $why = setpriv_unavailable();
    plan skip_all => $why if $why;

    # as in a container without CAP_BPF: root, and yet no BPF
    my $t = Engram->new(wrap => ['setpriv',
                                 '--bounding-set=-bpf,-sys_admin,-perfmon',
                                 '--']);

    $t->write_cluster_config(id => 'n3', ip => '127.0.0.164',
                             seeds => [$n[0]],
                             cluster => "gossip_guard on; $ALLOW");
    $t->start;

    my $text = 'gossip guard: the BPF programs cannot be loaded, datagrams '
               . 'are checked in user space only (1: Operation not '
               . 'permitted)';
    my @warn = $t->log_lines(qr/\[warn\] .*\Q$text\E$/);
    is(scalar @warn, 1, 'one warning says so') or diag($t->error_log);

    ok(wait_for(sub {
           my $m = cluster_members($t->port('http')) // {};
           return (keys %$m) == 4 && !grep { $_->{state} ne 'alive' }
                                     values %$m;
       }), 'the node joins the cluster: four members alive');

    is(sample($t, 'engram_gossip_guard_attached{hook="socket"}'), 0,
       'no socket filter is attached');

    my $user = user_dropped($t);
    send_junk($t->gossip_addr, qw(magic cluster));
    ok(grew_by_n($t, \&user_dropped, $user, qw(magic cluster)),
       'the cluster process counts the junk');

    is(scalar $t->log_lines(qr/gossip guard: the BPF programs cannot/), 1,
       'and the warning is still the only one');

    ok($t->stop, 'the node stops');
};


for my $t (@n) {
    ok($t->stop, 'the node stops');
}


sub setpriv_unavailable {
    my $r = run_command(['setpriv', '--version'], timeout => 10);
    return 'no setpriv (util-linux) to start engram without CAP_BPF'
        if $r->{exit} != 0;

    # with unprivileged BPF allowed, the socket filter would load anyway
    open my $fh, '<', '/proc/sys/kernel/unprivileged_bpf_disabled'
        or return 'no kernel.unprivileged_bpf_disabled';
    my $v = <$fh> // '';
    return 'unprivileged BPF is allowed on this host: a load would not '
           . 'fail' if $v =~ /^0/;

    return '';
}


###########################################################################
# the namespaces

my @NAMESPACES;        # made by this test, deleted at the end
my $CLONE_NEWNET = 0x40000000;


sub netns_unavailable {
    return 'XDP in namespaces needs root' if $> != 0;

    my $r = run_command(['ip', 'netns', 'list'], timeout => 10);
    return "\"ip netns\" is not available: "
           . ($r->{stderr} || "exit $r->{exit}")
        if $r->{exit} != 0;

    return 'no setns() for this perl (syscall.ph)'
        unless eval { require 'syscall.ph'; 1 };

    return '';
}


sub ip {
    my @args = @_;

    my $r = run_command(['ip', @args], timeout => 10);
    die "ip @args: exit $r->{exit}: $r->{stderr}" if $r->{exit} != 0;

    return $r->{stdout};
}


# two namespaces, eth0 in each, a veth between them: 10.231.0.1 and .2
sub veth_pair {
    my $tag = "eggd$$";

    # what a test that died without its END left behind
    for my $line (split /\n/, ip('netns', 'list')) {
        my ($name, $pid) = $line =~ /^(eggd(\d+)-\S+)/ or next;
        next if $pid == $$ || kill(0, $pid);
        run_command(['ip', 'netns', 'del', $name], timeout => 10);
    }

    my @ns = ("$tag-a", "$tag-b");

    for my $ns (@ns) {
        ip('netns', 'add', $ns);
        push @NAMESPACES, $ns;
        ip('-n', $ns, 'link', 'set', 'lo', 'up');
    }

    ip('-n', $ns[0], 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name',
       'eth0', 'netns', $ns[1]);

    for my $i (0, 1) {
        ip('-n', $ns[$i], 'addr', 'add', '10.231.0.' . ($i + 1) . '/24',
           'dev', 'eth0');
        ip('-n', $ns[$i], 'link', 'set', 'eth0', 'up');
    }

    return @ns;
}


# "ip link show eth0" in a namespace
sub link_of {
    my ($ns) = @_;
    return ip('-n', $ns, 'link', 'show', 'eth0');
}


# runs $code with this process in the namespace
sub in_netns {
    my ($ns, $code) = @_;

    open my $home, '<', '/proc/self/ns/net' or die "/proc/self/ns/net: $!";
    open my $there, '<', "/run/netns/$ns" or die "/run/netns/$ns: $!";

    syscall(SYS_setns(), fileno($there), $CLONE_NEWNET) == 0
        or die "setns($ns): $!";

    my @r = eval { $code->() };
    my $err = $@;

    syscall(SYS_setns(), fileno($home), $CLONE_NEWNET) == 0
        or die "setns back: $!";

    die $err if $err;

    return $r[0];
}


END {
    my $status = $?;

    local @SIG{qw(INT TERM HUP)} = ('IGNORE') x 3;

    for my $name (reverse @NAMESPACES) {
        system('ip', 'netns', 'del', $name);
    }

    $? = $status;
}


###########################################################################
# XDP, in two namespaces of our own: n[a] guards eth0 at the driver

subtest 'XDP on a veth: junk dropped at the driver, the program gone '
        . 'when configured away or engram stops' => sub {
    my $why = netns_unavailable();
    plan skip_all => $why if $why;

    my ($nsa, $nsb) = veth_pair();

    my %x;
    $x{a} = Engram->new(wrap => ['ip', 'netns', 'exec', $nsa]);
    $x{b} = Engram->new(wrap => ['ip', 'netns', 'exec', $nsb]);

    $x{a}->write_cluster_config(id => 'xa', ip => '10.231.0.1',
                                cluster => 'gossip_guard on xdp=eth0;');
    $x{b}->write_cluster_config(id => 'xb', ip => '10.231.0.2',
                                seeds => [$x{a}]);
    $_->start for values %x;

    ok(wait_for(sub {
           my $m = in_netns($nsb, sub {
                       cluster_members($x{b}->port('http')) }) // {};
           return join(',', sort keys %$m) eq 'xa,xb'
                  && !grep { $_->{state} ne 'alive' } values %$m;
       }), 'gossip passes the XDP program: xa and xb form a cluster');

    ok($x{a}->log_lines(qr/\[notice\] .*gossip guard: XDP program on "eth0"/),
       'xa logs its XDP program');
    like(link_of($nsa), qr/prog\/xdp .*eg_guard_xdp/, 'eth0 has it');

    my $m = in_netns($nsa, sub { metrics($x{a}->port('http')) }) // {};
    is($m->{'engram_gossip_guard_attached{hook="xdp"}'}, 1,
       'engram_gossip_guard_attached{hook="xdp"} is 1');

    # junk from xb's namespace to xa

    in_netns($nsb, sub {
        my $s = IO::Socket::INET->new(Proto => 'udp',
                                      PeerAddr => $x{a}->gossip_addr)
            or die "udp socket: $!";
        $s->send($JUNK{magic}[1]) // die "send: $!" for 1 .. $N;
    });

    my $xdp = 'engram_gossip_guard_xdp_dropped_total{reason="magic"}';
    my $all = 'engram_gossip_guard_dropped_total{reason="magic"}';

    ok(wait_for(sub {
           $m = in_netns($nsa, sub { metrics($x{a}->port('http')) }) // {};
           return ($m->{$xdp} // 0) == $N && ($m->{$all} // 0) == $N;
       }), "junk from the other namespace: $xdp is $N, and so is $all")
        or diag(explain($m));

    # configured away by a reload

    $x{a}->write_cluster_config(id => 'xa', cluster => 'gossip_guard on;');
    my $from = $x{a}->log_offset;
    ok($x{a}->signal('HUP'), 'HUP to xa without xdp=');
    ok(wait_for(sub { link_of($nsa) !~ /prog\/xdp/ }),
       'the XDP program leaves eth0');
    ok($x{a}->wait_for_log(qr/gossip guard: socket filter on/,
                           from => $from), 'the socket filter stays');

    # back, then engram stops

    $x{a}->write_cluster_config(id => 'xa',
                                cluster => 'gossip_guard on xdp=eth0;');
    ok($x{a}->signal('HUP'), 'HUP to xa with xdp=eth0 again');
    ok(wait_for(sub { link_of($nsa) =~ /prog\/xdp/ }),
       'the XDP program is back on eth0');

    ok($_->stop, 'the node stops') for values %x;
    unlike(link_of($nsa), qr/prog\/xdp/,
           'and the XDP program left with it');
};


done_testing;

