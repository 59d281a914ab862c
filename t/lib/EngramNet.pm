package EngramNet;

# A network of our own for the tests that break things on purpose
# (t/fault_*.t, t/discovery_multicast.t): a "hub" namespace holding a
# bridge, and one namespace per node with a veth to it. Node $i (1 to
# N) has eth0 with 10.200.0.$i/24 (and fd99:200::$i/64 with ipv6 => 1);
# the hub's end of its veth is p$i. No traffic leaves these namespaces.
#
#     use EngramNet;
#
#     my $net = EngramNet->cluster(size => 6);  # n1..n6, each in its
#                                               # namespace (or skip_all)
#     $net->partition([1, 2, 3], [4, 5, 6]);   # cut every link across
#     ok($net->wait_agree([1, 2, 3], alive => [1, 2, 3],
#                         dead => [4, 5, 6], timeout => 60));
#     $net->heal;
#
# Faults, all undone by heal / clear and by the end of the test:
#
#     loss($i, $percent, dir => 'out'|'in'|'both')
#                     node $i's link drops that share of the TCP and UDP
#                     packets it sends (out), receives (in) or both
#                     (default): nftables "numgen random" in the hub's
#                     bridge, so that a sender sees no error, as on a wire
#     delay($i, $ms, jitter => $ms, dir => 'out'|'in'|'both')
#                     what node $i sends, receives or both (default)
#                     waits $ms, give or take the jitter: tc netem on
#                     its veth's ends, or where the kernel has no netem
#                     (or TEST_ENGRAM_NETDELAY=1), an iptables NFQUEUE
#                     rule in its namespace and t/netdelay.c (built on
#                     first use) holding the packets; delay_unavailable()
#                     says why neither works, delay_method() which is used
#     cut($a, $b, oneway => 1)
#                     $a's packets to $b are dropped (and $b's to $a
#                     unless oneway)
#     partition([@group], [@group], ...)
#                     cuts every link between two groups
#     heal, heal($a, $b), clear($i)
#                     every cut; the cuts between $a and $b; every fault
#                     of node $i (loss, cuts, delay)
#     dropped($i)     packets the rules dropped that came from node $i
#                     (every node's without $i); sent($i): all it sent
#     pause($i), resume($i)
#                     SIGSTOP, SIGCONT to every process of node $i
#     kill_node($i), kill_cluster($i)
#                     signal 9 to every process of the node; to its
#                     cluster process only (its master starts another)
#
# Only TCP and UDP are dropped: ARP and neighbour discovery still pass,
# so a one-way cut does not also cut the other way.
#
# Nodes: node($i) is node $i's engram instance (Engram.pm), "n$i",
# gossiping on 10.200.0.$i:7946 with every other node as a seed, HTTP on
# 127.0.0.1:8080 in its namespace, and every SWIM timing at its default
# unless a test says otherwise (timings => 'test', or cluster => '...');
# start_cluster starts them all and waits until they agree, cluster()
# does it all for a test, wait_figures waits for their metrics.
#
# Reading the nodes (over HTTP on each node's loopback, from inside its
# namespace):
#
#     members($i)     its /cluster/members as id => member, undef if it
#                     did not answer (a paused node)
#     metrics($i)     its /metrics samples, name => value
#     agree(\@obs, alive => [...], dead => [...], ...)
#                     whether every observer lists exactly those members
#                     in those states; why() says what was wrong
#     wait_agree(\@obs, ..., timeout => S)
#                     the seconds it took, undef on timeout
#     watch(...)      a watcher: a process of its own that reads every
#                     node's member list all along a scenario, so that a
#                     flap (a live node seen suspect or dead, even for a
#                     moment) cannot slip between two checks; see
#                     EngramNet::Watch below
#
# Names: every namespace is "eg-TAG-PID-...", TAG the test file's name:
# tests can run at once, and what a run that could not clean up (killed
# with signal 9) left behind, namespaces and the processes in them, is
# deleted by the next run of the same test. The namespaces, the nodes'
# processes, the watchers and the delayers go at the end of the test
# whatever way it ends (END, and the signals Engram.pm turns into exit).

use strict;
use warnings;

use Engram qw(wait_for run_command);
use File::Basename qw(basename);
use File::Spec;
use File::Temp qw(tempfile tempdir);
use POSIX ();
use Test::More ();
use Time::HiRes qw(sleep time);

our $SUBNET = '10.200.0';
our $SUBNET6 = 'fd99:200:';
our $GOSSIP_PORT = 7946;
our $HTTP_PORT = 8080;

# every SWIM timing at its default (docs/protocol.md, "Timers and
# defaults"); only the join retry stays quick, so that a cluster forms
# fast: it is no part of failure detection
our %DEFAULT_TIMINGS = (join_retry_interval => '200ms');

my $CLONE_NEWNET = 0x40000000;

# the number of setns(), from syscall.ph (h2ph's headers define it in
# the package that loads them first: loaded afresh into one of ours)
my $SYS_SETNS = do {
    package EngramNet::Sys;
    local %INC = %INC;
    delete @INC{ grep { /\.ph$/ } keys %INC };
    eval { require 'syscall.ph'; EngramNet::Sys::SYS_setns() };
};

my @NETS;               # every network made, for the final cleanup
my @DELAYERS;           # every netdelay running, likewise

my $TAG = basename($0);
$TAG =~ s/\.t$//;
$TAG =~ s/[^A-Za-z0-9_]/_/g;
$TAG = substr $TAG, 0, 24;


###########################################################################
# what the machine has

sub _have {
    my ($prog) = @_;
    return grep { -x "$_/$prog" } split(/:/, $ENV{PATH} // ''),
                                  qw(/usr/sbin /sbin);
}


# Why no network can be made here, or '' (the reason a test skips for).
# With faults => 0, a network without faults is enough: no tc, no nft.
sub unavailable {
    my (%opts) = @_;

    return 'this test needs root for network namespaces' if $> != 0;

    for my $prog ('ip', ($opts{faults} // 1) ? qw(tc nft) : ()) {
        return "no \"$prog\" on this machine (auto/deps --test installs "
               . ($prog eq 'nft' ? 'nftables' : 'iproute2') . ')'
            unless _have($prog);
    }

    my $r = run_command(['ip', 'netns', 'list'], timeout => 10);
    return '"ip netns" is not available: '
           . ($r->{stderr} || "exit $r->{exit}")
        if $r->{exit} != 0;

    return 'no setns() for this perl (syscall.ph)' unless $SYS_SETNS;

    return '';
}


# why tc netem cannot delay here (no sch_netem in the kernel), or ''
my $NETEM;

sub netem_unavailable {
    return $NETEM if defined $NETEM;

    my $ns = "eg-$TAG-$$-netem";
    my $r = run_command(['ip', 'netns', 'add', $ns], timeout => 10);
    return $NETEM = "ip netns add: $r->{stderr}" if $r->{exit} != 0;

    run_command(['ip', '-n', $ns, 'link', 'set', 'lo', 'up'], timeout => 10);
    $r = run_command(['ip', 'netns', 'exec', $ns, 'tc', 'qdisc', 'add',
                      'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
                     timeout => 10);
    run_command(['ip', 'netns', 'del', $ns], timeout => 10);

    return $NETEM = '' if $r->{exit} == 0;

    chomp(my $err = $r->{stderr});
    return $NETEM = "this kernel has no sch_netem (CONFIG_NET_SCH_NETEM): "
                    . "tc says \"$err\"";
}


# The delayer of kernels without netem, t/netdelay.c, built on first use
# into a directory of this test's: its path, or undef and why not.
my ($NETDELAY, $NETDELAY_WHY);

sub _netdelay_build {
    return $NETDELAY if $NETDELAY;
    return undef if defined $NETDELAY_WHY;

    my $src = File::Spec->rel2abs(File::Basename::dirname(__FILE__)
                                  . '/../netdelay.c');
    my $dir = tempdir('engram-netdelay-XXXXXXXX', TMPDIR => 1,
                      CLEANUP => 1);
    my $cc = $ENV{CC} || 'cc';

    my $libs = run_command(['pkg-config', '--libs', 'libnetfilter_queue'],
                           timeout => 10);
    my @libs = $libs->{exit} == 0 ? split(' ', $libs->{stdout})
                                  : ('-lnetfilter_queue', '-lnfnetlink');

    my $r = run_command([$cc, '-O2', '-Wall', '-o', "$dir/netdelay", $src,
                         @libs], timeout => 60);

    if ($r->{exit} != 0) {
        my ($first) = grep { /error/ } split /\n/, $r->{stderr} // '';
        $NETDELAY_WHY = "cannot build t/netdelay.c with $cc (auto/deps "
                        . '--test installs libnetfilter-queue-dev): '
                        . ($first // $r->{stderr} // "exit $r->{exit}");
        return undef;
    }

    return $NETDELAY = "$dir/netdelay";
}


# why delay() cannot work here, or '': it needs netem, or else iptables'
# NFQUEUE and t/netdelay.c; TEST_ENGRAM_NETDELAY=1 takes the latter even
# where netem is there
my $DELAY;

sub delay_unavailable {
    return $DELAY if defined $DELAY;
    return $DELAY = '' if _delay_method() eq 'netem';

    my $netem = $ENV{TEST_ENGRAM_NETDELAY} ? '' : netem_unavailable() . '; ';

    return $DELAY = "${netem}no \"iptables-restore\" for the NFQUEUE "
                    . 'fallback (auto/deps --test installs iptables)'
        unless _have('iptables-restore');

    _netdelay_build() or return $DELAY = "$netem$NETDELAY_WHY";

    # a queue and a rule that sends to it, in a namespace of its own
    my $ns = "eg-$TAG-$$-nfqueue";
    my $r = run_command(['ip', 'netns', 'add', $ns], timeout => 10);
    return $DELAY = "ip netns add: $r->{stderr}" if $r->{exit} != 0;

    my $why = '';
    my $d = eval { _netdelay_start($ns, 0, 1, 0) };

    if (!$d) {
        $why = $@;
    } else {
        $r = run_command(['ip', 'netns', 'exec', $ns, 'iptables', '-A',
                          'OUTPUT', '-o', 'lo', '-p', 'udp', '-j', 'NFQUEUE',
                          '--queue-num', 0], timeout => 10);
        chomp($why = "iptables cannot send to NFQUEUE "
                     . '(CONFIG_NETFILTER_XT_TARGET_NFQUEUE): '
                     . $r->{stderr})
            if $r->{exit} != 0;
        _netdelay_stop($d);
    }

    run_command(['ip', 'netns', 'del', $ns], timeout => 10);

    return $DELAY = $why ? "$netem$why" : '';
}


# 'netem' or 'nfqueue': what delay() uses here
sub _delay_method {
    return !$ENV{TEST_ENGRAM_NETDELAY} && netem_unavailable() eq ''
           ? 'netem' : 'nfqueue';
}

sub delay_method { _delay_method() }


###########################################################################
# the network

# Makes the namespaces. Options: size (nodes, default 3), ipv6 => 1 (an
# IPv6 address too, without duplicate detection), multicast => 1 (a
# route to 224.0.0.0/4 on eth0 in every node), subnet ('10.200.0') and
# subnet6 ('fd99:200:') the addresses are made of. Dies if it cannot.
sub new {
    my ($class, %opts) = @_;

    my $self = bless {
        size    => $opts{size} // 3,
        ipv6    => $opts{ipv6} // 0,
        subnet  => $opts{subnet} // $SUBNET,
        subnet6 => $opts{subnet6} // $SUBNET6,
        prefix  => "eg-$TAG-$$" . (@NETS ? '-' . @NETS : ''),
        nss     => [],          # namespaces made, in order
        nodes   => {},          # index => Engram instance
        cuts    => {},          # "a>b" => 1: a's packets to b dropped
        loss    => {},          # index => { out => %, in => % }
        delay   => {},          # index => netem arguments, or its
                                # netdelay (_netdelay_start)
        watches => [],          # watcher pids still running
    }, $class;

    push @NETS, $self;

    _sweep();

    my $hub = $self->_netns_add('hub');
    $self->{hub} = $hub;

    # no IGMP/MLD snooping: every group reaches every port
    $self->ip('-n', $hub, 'link', 'add', 'br0', 'type', 'bridge',
              'mcast_snooping', 0);
    $self->ip('-n', $hub, 'link', 'set', 'br0', 'up');

    for my $i (1 .. $self->{size}) {
        my $ns = $self->_netns_add("n$i");

        $self->ip('-n', $ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer',
                  'name', "p$i", 'netns', $hub);
        $self->ip('-n', $hub, 'link', 'set', "p$i", 'master', 'br0', 'up');
        $self->ip('-n', $ns, 'addr', 'add', $self->addr($i) . '/24',
                  'dev', 'eth0');

        if ($self->{ipv6}) {
            $self->ip('-n', $ns, 'addr', 'add', $self->addr6($i) . '/64',
                      'dev', 'eth0', 'nodad');
        }

        $self->ip('-n', $ns, 'link', 'set', 'eth0', 'up');

        if ($opts{multicast}) {
            $self->ip('-n', $ns, 'route', 'add', '224.0.0.0/4', 'dev',
                      'eth0');
        }
    }

    # the rules, counting what every node sends, if nft is there (a
    # network without faults needs none)
    $self->_apply_rules if _have('nft');

    return $self;
}


sub size { $_[0]{size} }
sub hub { $_[0]{hub} }
sub ns { "$_[0]{prefix}-n$_[1]" }
sub addr { "$_[0]{subnet}.$_[1]" }
sub addr6 { "$_[0]{subnet6}:$_[1]" }
sub id { "n$_[1]" }
sub ids { my $self = shift; return map { $self->id($_) } @_ }
sub all { 1 .. $_[0]{size} }


# runs "ip @args", dies on failure; returns its output
sub ip {
    my ($self, @args) = @_;

    my $r = run_command(['ip', @args], timeout => 10);
    die "ip @args: exit $r->{exit}: $r->{stderr}" if $r->{exit} != 0;

    return $r->{stdout};
}


# runs a command (argv) in node $i's namespace (the hub's for $i "hub"); dies
# on failure unless ok_fail => 1; returns run_command's hash
sub run_in {
    my ($self, $i, $argv, %opts) = @_;

    my $ns = $i eq 'hub' ? $self->{hub} : $self->ns($i);
    my $r = run_command(['ip', 'netns', 'exec', $ns, @$argv],
                        timeout => $opts{timeout} // 10,
                        stdin => $opts{stdin});

    die "in $ns: @$argv: exit $r->{exit}: $r->{stderr}"
        if $r->{exit} != 0 && !$opts{ok_fail};

    return $r;
}


sub _netns_add {
    my ($self, $name) = @_;

    my $ns = "$self->{prefix}-$name";

    $self->ip('netns', 'add', $ns);
    push @{ $self->{nss} }, $ns;
    $self->ip('-n', $ns, 'link', 'set', 'lo', 'up');

    if ($self->{ipv6}) {

        # link-local addresses usable at once: no duplicate detection to
        # wait for, in a network that has no duplicate
        for my $conf ('all', 'default') {
            my $r = run_command(['ip', 'netns', 'exec', $ns, 'sh', '-c',
                                 "echo 0 > /proc/sys/net/ipv6/conf/$conf/"
                                 . 'accept_dad'], timeout => 10);
            die "accept_dad in $ns: $r->{stderr}" if $r->{exit} != 0;
        }
    }

    return $ns;
}


# The namespaces of this test that a run which died without its END
# (killed with signal 9) left, with the processes still in them.
sub _sweep {
    my $r = run_command(['ip', 'netns', 'list'], timeout => 10);

    for my $line (split /\n/, $r->{stdout} // '') {
        my ($name, $pid) = $line =~ /^(eg-\Q$TAG\E-(\d+)-\S+)/ or next;
        next if $pid == $$ || kill(0, $pid);

        my $in = run_command(['ip', 'netns', 'pids', $name], timeout => 10);
        my @pids = grep { /^\d+$/ } split /\s+/, $in->{stdout} // '';

        if (@pids) {
            kill 'CONT', @pids;
            kill 'KILL', @pids;
        }

        run_command(['ip', 'netns', 'del', $name], timeout => 10);
    }
}


# runs $code with this process in node $i's namespace (the hub's for
# "hub", or any namespace by its name): the sockets it makes stay there,
# so the HTTP helpers of Engram.pm reach the node's loopback
sub in_netns {
    my ($self, $i, $code) = @_;

    my $ns = $i eq 'hub' ? $self->{hub} : $i =~ /^\d+$/ ? $self->ns($i) : $i;
    return _in_netns($ns, $code);
}


sub _in_netns {
    my ($ns, $code) = @_;

    open my $home, '<', '/proc/self/ns/net' or die "/proc/self/ns/net: $!";
    open my $there, '<', "/run/netns/$ns" or die "/run/netns/$ns: $!";

    syscall($SYS_SETNS, fileno($there), $CLONE_NEWNET) == 0
        or die "setns($ns): $!";

    my @r = eval { $code->() };
    my $err = $@;

    syscall($SYS_SETNS, fileno($home), $CLONE_NEWNET) == 0
        or die "setns back: $!";

    die $err if $err;

    return $r[0];
}


###########################################################################
# faults on the links

sub loss {
    my ($self, $i, $percent, %opts) = @_;

    my $dir = $opts{dir} // 'both';
    die "loss: dir is out, in or both\n" unless $dir =~ /^(?:out|in|both)$/;

    for my $d ('out', 'in') {
        $self->{loss}{$i}{$d} = $percent if $dir eq 'both' || $dir eq $d;
    }

    $self->_apply_rules;
}


sub cut {
    my ($self, $from, $to, %opts) = @_;

    $self->{cuts}{"$from>$to"} = 1;
    $self->{cuts}{"$to>$from"} = 1 unless $opts{oneway};

    $self->_apply_rules;
}


# every node of a group loses every other group
sub partition {
    my ($self, @groups) = @_;

    for my $g (0 .. $#groups) {
        for my $h (0 .. $#groups) {
            next if $g == $h;
            for my $from (@{ $groups[$g] }) {
                $self->{cuts}{"$from>$_"} = 1 for @{ $groups[$h] };
            }
        }
    }

    $self->_apply_rules;
}


# heal: every cut; heal($a, $b): those between $a and $b
sub heal {
    my ($self, $one, $other) = @_;

    if (defined $other) {
        delete @{ $self->{cuts} }{ "$one>$other", "$other>$one" };
    } else {
        $self->{cuts} = {};
    }

    $self->_apply_rules;
}


# every fault of node $i's link: loss, cuts to and from it, delay
sub clear {
    my ($self, $i) = @_;

    delete $self->{loss}{$i};

    for my $k (keys %{ $self->{cuts} }) {
        my ($from, $to) = split />/, $k;
        delete $self->{cuts}{$k} if $from == $i || $to == $i;
    }

    $self->_apply_rules;
    $self->delay($i, 0) if $self->{delay}{$i};
}


# The rules, all in the hub's bridge, where a frame from node $i comes
# in by p$i and one to it goes out by p$j: replaced as a whole, in one
# transaction, at every change. Each rule counts what it drops, under a
# comment that names the node it came from.
sub _apply_rules {
    my ($self) = @_;

    # first what every node sends, counted as it comes in
    my @rules = map { qq{iifname "p$_" counter comment "sent by $_"} }
                $self->all;

    for my $k (sort keys %{ $self->{cuts} }) {
        my ($from, $to) = split />/, $k;
        push @rules, qq{iifname "p$from" oifname "p$to" counter drop }
                     . qq{comment "from $from: cut to $to"};
    }

    for my $i (sort { $a <=> $b } keys %{ $self->{loss} }) {
        my $l = $self->{loss}{$i};

        # in thousandths: 0.5 % is 5
        my ($out, $in) = map { int(($l->{$_} // 0) * 10 + 0.5) } 'out', 'in';

        push @rules, qq{iifname "p$i" numgen random mod 1000 < $out }
                     . qq{counter drop comment "from $i: loss out"}
            if $out > 0;
        push @rules, qq{oifname "p$i" numgen random mod 1000 < $in }
                     . qq{counter drop comment "to $i: loss in"}
            if $in > 0;
    }

    my $text = "table bridge engram_fault\n"
               . "delete table bridge engram_fault\n"
               . "table bridge engram_fault {\n"
               . "    chain forward {\n"
               . "        type filter hook forward priority 0;"
               . " policy accept;\n"
               . join('', map { "        meta l4proto { tcp, udp } $_\n" }
                          @rules)
               . "    }\n}\n";

    my ($fh, $file) = tempfile('engram-nft-XXXXXXXX', TMPDIR => 1,
                               UNLINK => 1);
    print {$fh} $text;
    close $fh;

    $self->run_in('hub', ['nft', '-f', $file]);
    unlink $file;

    $self->{rules} = $text;
}


# the packets each rule counted, by its comment: "sent by 3", "from 3:
# cut to 5", "from 3: loss out", "to 3: loss in"
sub drop_counts {
    my ($self) = @_;

    my $r = $self->run_in('hub', ['nft', 'list', 'table', 'bridge',
                                'engram_fault']);
    my %n;

    for my $line (split /\n/, $r->{stdout}) {
        my ($packets, $comment) =
            $line =~ /counter packets (\d+) .* comment "([^"]*)"/ or next;
        $n{$comment} += $packets;
    }

    return \%n;
}


# the TCP and UDP packets node $i sent to the bridge, dropped or not
sub sent {
    my ($self, $i) = @_;
    return $self->drop_counts->{"sent by $i"} // 0;
}


# packets the rules dropped that node $i sent (all of them without $i)
sub dropped {
    my ($self, $i) = @_;

    my $n = $self->drop_counts;
    my $sum = 0;

    for my $k (keys %$n) {
        $sum += $n->{$k} if !defined $i || $k =~ /^from $i:/;
    }

    return $sum;
}


# What node $i sends (dir => 'out'), receives ('in') or both (the
# default) waits $ms, give or take up to jitter => $ms (uniform with
# the fallback, normal with netem): netem on eth0 for what it sends, on
# p$i in the hub for what it receives; where the kernel has no netem, an
# iptables rule in the node's namespace (OUTPUT -o eth0, INPUT -i eth0,
# TCP and UDP) sends those packets to NFQUEUE queue $i, which
# t/netdelay.c, run in the namespace, holds and lets go. delay($i, 0)
# removes it. A packet between two delayed nodes waits on both links:
# with dir => 'out' on every node, each waits once.
sub delay {
    my ($self, $i, $ms, %opts) = @_;

    my $dir = $opts{dir} // 'both';
    die "delay: dir is out, in or both\n" unless $dir =~ /^(?:out|in|both)$/;

    if (my $old = delete $self->{delay}{$i}) {
        if (ref $old) {
            $self->_netdelay_remove($i, $old);
        } else {
            $self->run_in($i, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root'],
                          ok_fail => 1);
            $self->run_in('hub', ['tc', 'qdisc', 'del', 'dev', "p$i",
                                  'root'], ok_fail => 1);
        }
    }

    return unless $ms;

    my $why = delay_unavailable();
    die "delay: $why\n" if $why;

    my $jitter = $opts{jitter} // 0;

    if (_delay_method() eq 'nfqueue') {
        my $d = _netdelay_start($self->ns($i), $i, $ms, $jitter);
        $d->{dir} = $dir;
        $self->{delay}{$i} = $d;

        eval { $self->_netdelay_rules($i, $dir) };

        if (my $err = $@) {
            $self->_netdelay_remove($i, delete $self->{delay}{$i});
            die $err;
        }

        return;
    }

    my @netem = ('netem', 'delay', "${ms}ms");
    push @netem, "${jitter}ms", 'distribution', 'normal' if $jitter;

    $self->run_in($i, ['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root',
                       @netem]) if $dir ne 'in';
    $self->run_in('hub', ['tc', 'qdisc', 'replace', 'dev', "p$i", 'root',
                          @netem]) if $dir ne 'out';

    $self->{delay}{$i} = "@netem";
}


# the packets node $i's last delayer held (with the fallback only: undef
# with netem), counted when it stopped
sub delayed {
    my ($self, $i) = @_;
    return $self->{delayed}{$i};
}


# node $i's filter table, whole and at once: its delayed packets to its
# queue, or nothing
sub _netdelay_rules {
    my ($self, $i, $dir) = @_;

    my @rules;

    if ($dir) {
        for my $p ('udp', 'tcp') {
            push @rules, "-A OUTPUT -o eth0 -p $p -j NFQUEUE --queue-num $i"
                if $dir ne 'in';
            push @rules, "-A INPUT -i eth0 -p $p -j NFQUEUE --queue-num $i"
                if $dir ne 'out';
        }
    }

    my $text = join "\n", "*filter", ':INPUT ACCEPT [0:0]',
                          ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
                          @rules, "COMMIT\n";

    my ($fh, $file) = tempfile('engram-iptables-XXXXXXXX', TMPDIR => 1,
                               UNLINK => 1);
    print {$fh} $text;
    close $fh;

    $self->run_in($i, ['iptables-restore', $file]);
    unlink $file;
}


# the rules go first, then the delayer, which lets go what it holds
sub _netdelay_remove {
    my ($self, $i, $d) = @_;

    $self->_netdelay_rules($i, undef) if $d->{dir};
    _netdelay_stop($d);

    $self->{delayed}{$i} = $d->{delayed};

    die "delay: node ${i}'s netdelay had exited before it was told: "
        . "$d->{stderr}\n" if $d->{early};
}


# netdelay in namespace $ns on queue $queue: { pid, out, err } once it
# reads the queue; dies if it does not
sub _netdelay_start {
    my ($ns, $queue, $ms, $jitter) = @_;

    my $bin = _netdelay_build() or die "$NETDELAY_WHY\n";
    my ($out, $err) = map {
        (tempfile("engram-netdelay-$_-XXXXXXXX", TMPDIR => 1,
                  UNLINK => 1))[1]
    } 'out', 'err';

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        { exec 'ip', 'netns', 'exec', $ns, $bin, '-q', $queue, '-d', $ms,
               '-j', $jitter; }
        POSIX::_exit(127);
    }

    my $d = { pid => $pid, out => $out, err => $err };
    push @DELAYERS, $d;

    my $ready = wait_for(sub {
        _slurp($out) =~ /^netdelay: ready/m
            || waitpid($pid, POSIX::WNOHANG()) == $pid
               && ($d->{exited} = 1);
    }, 10);

    if (!$ready || $d->{exited}) {
        _netdelay_stop($d);
        die "netdelay in $ns did not start: $d->{stderr}\n";
    }

    return $d;
}


# SIGTERM (SIGKILL after 5 s): what it held goes on; reads its count
sub _netdelay_stop {
    my ($d) = @_;

    if ($d->{pid}) {
        if ($d->{exited} || waitpid($d->{pid}, POSIX::WNOHANG()) == $d->{pid})
        {
            $d->{early} = 1;
        } else {
            kill 'TERM', $d->{pid};
            wait_for(sub {
                waitpid($d->{pid}, POSIX::WNOHANG()) == $d->{pid}
            }, 5) or do { kill 'KILL', $d->{pid}; waitpid($d->{pid}, 0) };
        }

        delete $d->{pid};
        @DELAYERS = grep { $_ != $d } @DELAYERS;
    }

    ($d->{delayed}) = _slurp($d->{out}) =~ /^netdelay: delayed (\d+)/m;
    chomp($d->{stderr} = _slurp($d->{err}));
    unlink $d->{out}, $d->{err};

    return $d;
}


sub _slurp {
    my ($file) = @_;

    open my $fh, '<', $file or return '';
    local $/;
    return <$fh> // '';
}


###########################################################################
# engram nodes

# Node $i's engram instance, made on first use: it runs in the node's
# namespace, gossips on 10.200.0.$i:7946 and serves HTTP on
# 127.0.0.1:8080 there. Options (first use only): as start_cluster's.
sub node {
    my ($self, $i, %opts) = @_;

    return $self->{nodes}{$i} if $self->{nodes}{$i};

    die "no node $i in a network of $self->{size}\n"
        unless $i >= 1 && $i <= $self->{size};

    my $t = Engram->new(wrap => ['ip', 'netns', 'exec', $self->ns($i)]);

    $t->{ports}{gossip} = $GOSSIP_PORT;
    $t->{ports}{http} = $HTTP_PORT;

    my @seeds = map { $self->addr($_) . ":$GOSSIP_PORT" }
                @{ $opts{seeds} // [ $self->all ] };

    {
        local %Engram::CLUSTER_TIMINGS = %Engram::CLUSTER_TIMINGS;
        %Engram::CLUSTER_TIMINGS = %DEFAULT_TIMINGS
            if ($opts{timings} // 'default') eq 'default';

        $t->write_cluster_config(id => $self->id($i), ip => $self->addr($i),
                                 seeds => \@seeds,
                                 cluster => $opts{cluster} // '',
                                 main => $opts{main});
    }

    return $self->{nodes}{$i} = $t;
}


# Makes and starts every node (or those of "nodes" => [...]) and waits
# until each lists them all alive; dies if they do not. Options:
#     cluster   more directives for the cluster block
#     timings   'default' (the default: every SWIM timing at its
#               default) or 'test' (Engram.pm's fast ones)
#     seeds     [indexes]: the seeds of every node (default: all)
# Returns the seconds it took to agree.
sub start_cluster {
    my ($self, %opts) = @_;

    my @nodes = @{ $opts{nodes} // [ $self->all ] };

    $self->node($_, %opts)->start for @nodes;

    my $took = $self->wait_agree(\@nodes, alive => \@nodes,
                                 timeout => $opts{timeout} // 60);

    die "the cluster did not form: " . $self->why . "\n"
        unless defined $took;

    return $took;
}


# A test's cluster in one call: skips the whole test (plan skip_all,
# saying why) where no network can be made, else makes one of "size"
# nodes and starts them (options of new() and start_cluster()), passes a
# test when they agree, dies when they do not.
sub cluster {
    my ($class, %opts) = @_;

    my $why = unavailable();
    Test::More::plan(skip_all => $why) if $why;

    my $net = $class->new(%opts);
    my $took = eval { $net->start_cluster(%opts) };

    Test::More::ok(defined $took,
                   sprintf('%d nodes form a cluster', $net->size)
                   . (defined $took ? sprintf(' (%.1f s)', $took) : ''))
        or die "no cluster: $@";

    return $net;
}


# Waits until every node (or those given) publishes the gossip figures
# (the cluster process does once a second), so that counters read next
# are a base to compare with; passes a test when they do.
sub wait_figures {
    my ($self, @nodes) = @_;

    @nodes = $self->all unless @nodes;

    return Test::More::ok(wait_for(sub {
        !grep { !defined(($self->metrics($_) // {})
                         ->{engram_swim_suspicions_total}) } @nodes;
    }), 'every node publishes its gossip figures');
}


# the members node $i lists, id => { state, incarnation, ... }; undef if
# it did not answer within the timeout (default 2 s)
sub members {
    my ($self, $i, %opts) = @_;

    my $data = $self->in_netns($i, sub {
        Engram::http_json($HTTP_PORT, '/cluster/members',
                          timeout => $opts{timeout} // 2);
    });

    return undef unless ref $data eq 'HASH'
                        && ref $data->{members} eq 'ARRAY';

    return { map { $_->{id} => $_ } @{ $data->{members} } };
}


# /metrics of node $i, sample => value; undef if it did not answer
# within the timeout (default 2 s)
sub metrics {
    my ($self, $i, %opts) = @_;
    return $self->in_netns($i, sub {
        Engram::metrics($HTTP_PORT, timeout => $opts{timeout} // 2);
    });
}


# the sum of a metric over nodes (all by default); nodes that do not
# answer count 0
sub metric_sum {
    my ($self, $name, @nodes) = @_;

    my $sum = 0;
    $sum += ($self->metrics($_) // {})->{$name} // 0
        for @nodes ? @nodes : $self->all;

    return $sum;
}


# "n1 alive, n2 dead, ..." as node $i lists its members
sub view {
    my ($self, $i) = @_;

    my $m = $self->members($i, timeout => 1)
        or return $self->id($i) . ': no answer';

    return $self->id($i) . ': '
           . join(', ', map { "$_ $m->{$_}{state}" } sort keys %$m);
}


# Whether every observer lists exactly the members named, each in the
# state it is named under (alive, suspect, dead, left: indexes or ids);
# with others => 1, members not named may be listed too. why() tells
# the first disagreement.
sub agree {
    my ($self, $observers, %want) = @_;

    my $others = delete $want{others};
    my %state;

    for my $s (keys %want) {
        for my $who (@{ $want{$s} }) {
            $state{ $who =~ /^\d+$/ ? $self->id($who) : $who } = $s;
        }
    }

    for my $i (@$observers) {
        my $m = $self->members($i, timeout => 1);

        if (!$m) {
            $self->{why} = $self->id($i) . ' did not answer';
            return 0;
        }

        for my $id (sort keys %state) {
            my $s = $m->{$id}{state} // 'absent';
            next if $s eq $state{$id};
            $self->{why} = $self->id($i) . " lists $id $s, not $state{$id}"
                           . ' (' . $self->view($i) . ')';
            return 0;
        }

        next if $others;

        if (my @extra = grep { !exists $state{$_} } sort keys %$m) {
            $self->{why} = $self->id($i) . " also lists @extra";
            return 0;
        }
    }

    $self->{why} = '';
    return 1;
}


sub why { $_[0]{why} // '' }


# agree() again and again until it holds: the seconds that took, or
# undef after "timeout" seconds (default $Engram::TIMEOUT)
sub wait_agree {
    my ($self, $observers, %want) = @_;

    my $timeout = delete $want{timeout} // $Engram::TIMEOUT;
    my $start = time;

    my $ok = wait_for(sub { $self->agree($observers, %want) }, $timeout);

    return $ok ? time - $start : undef;
}


# every process of node $i
sub pids {
    my ($self, $i) = @_;
    my $t = $self->{nodes}{$i} or return ();
    return $t->processes;
}


sub pause {
    my ($self, $i) = @_;

    my @pids = $self->pids($i) or die "node $i has no process to pause\n";
    kill 'STOP', @pids;

    # stopped for sure before the caller counts the time
    wait_for(sub {
        !grep { ((Engram::proc_stat($_) // {})->{state} // 'T') ne 'T' }
              @pids;
    }, 5);

    $self->{paused}{$i} = \@pids;
    return @pids;
}


sub resume {
    my ($self, $i) = @_;

    my @pids = @{ delete $self->{paused}{$i} // [] };
    push @pids, $self->pids($i);

    kill 'CONT', @pids if @pids;
}


# every process of node $i killed with signal 9, as the crash of its
# host would; true once they are all gone
sub kill_node {
    my ($self, $i) = @_;

    delete $self->{paused}{$i};
    return $self->node($i)->kill9;
}


# signal 9 to node $i's cluster process alone: its pid, or undef if it
# had none
sub kill_cluster {
    my ($self, $i) = @_;

    my $pid = $self->node($i)->cluster_pid or return undef;
    kill 'KILL', $pid;

    return $pid;
}


###########################################################################
# the watcher

# Starts a process that reads the member list of every observer (all
# nodes by default) every "interval" seconds (default 0.2) until stop():
#
#     my $w = $net->watch;
#     ... the scenario ...
#     $w->stop;
#     is_deeply([$w->flaps(live => [1 .. 5])], [], 'no flap');
#
# Options: observers => [indexes], interval, timeout (of one request,
# default 1 s: a paused observer costs no more), metrics => [names]:
# samples of /metrics to read as well, each time (see max_metric).
sub watch {
    my ($self, %opts) = @_;

    my @obs = @{ $opts{observers} // [ $self->all ] };
    my @metrics = @{ $opts{metrics} // [] };
    my $interval = $opts{interval} // 0.2;
    my $timeout = $opts{timeout} // 1;

    my ($fh, $file) = tempfile('engram-watch-XXXXXXXX', TMPDIR => 1,
                               UNLINK => 1);
    close $fh;

    my $parent = $$;
    my $start = time;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        my $stop = 0;
        local $SIG{TERM} = sub { $stop = 1 };
        local $SIG{INT} = 'IGNORE';

        eval {
            open my $out, '>>', $file or die "$file: $!";
            $out->autoflush(1);

            my %fd;
            for my $i (@obs) {
                my $ns = $self->ns($i);
                open $fd{$i}, '<', "/run/netns/$ns" or die "$ns: $!";
            }

            while (!$stop && getppid() == $parent) {
                my $next = time + $interval;

                for my $i (@obs) {
                    last if $stop;

                    # this process is the watcher's alone: no way back
                    syscall($SYS_SETNS, fileno($fd{$i}), $CLONE_NEWNET)
                        == 0 or die "setns: $!";

                    my $t = time;
                    my $data = Engram::http_json($HTTP_PORT,
                                                 '/cluster/members',
                                                 timeout => $timeout);
                    my $line = sprintf '%.3f %d', $t - $start, $i;

                    if (ref $data eq 'HASH'
                        && ref $data->{members} eq 'ARRAY')
                    {
                        $line .= join '', map {
                            " $_->{id}=$_->{state}:"
                            . ($_->{incarnation} // '')
                        } @{ $data->{members} };
                    } else {
                        $line .= ' -';
                    }

                    if (@metrics) {
                        my $m = Engram::metrics($HTTP_PORT,
                                                timeout => $timeout) // {};
                        $line .= join '', map { " \@$_=$m->{$_}" }
                                          grep { defined $m->{$_} }
                                          @metrics;
                    }

                    print {$out} "$line\n";
                }

                my $left = $next - time;
                sleep $left if $left > 0;
            }

            close $out;
        };

        print STDERR "watcher: $@" if $@;
        POSIX::_exit(0);
    }

    push @{ $self->{watches} }, $pid;

    return bless {
        net   => $self,
        pid   => $pid,
        file  => $file,
        start => $start,
    }, 'EngramNet::Watch';
}


sub _stop_watches {
    my ($self) = @_;

    for my $pid (@{ $self->{watches} }) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }

    $self->{watches} = [];
}


###########################################################################
# the end

# every process of every node goes (a paused one is woken first, so that
# nothing waits on it), then every namespace
sub destroy {
    my ($self) = @_;

    return if $self->{destroyed}++;

    $self->_stop_watches;

    # the namespaces go: no rule to take away first
    for my $i (keys %{ $self->{delay} }) {
        my $d = delete $self->{delay}{$i};
        _netdelay_stop($d) if ref $d;
    }

    for my $t (values %{ $self->{nodes} }) {
        my @pids = $t->processes;
        kill 'CONT', @pids if @pids;
        $t->_kill_all;
    }

    for my $ns (reverse @{ $self->{nss} }) {
        run_command(['ip', 'netns', 'del', $ns], timeout => 10);
    }
}


# At done_testing Engram.pm stops every node: paused nodes are woken and
# the watchers stopped first, so that the nodes stop as they should.
{
    no warnings 'redefine';

    my $finish = \&Engram::_finish_all;

    *Engram::_finish_all = sub {
        for my $net (@NETS) {
            $net->_stop_watches;
            $net->resume($_) for keys %{ $net->{paused} // {} };
        }

        return $finish->(@_);
    };
}


END {
    my $status = $?;

    # a second Ctrl-C must not leave half of it behind
    local @SIG{qw(INT TERM HUP)} = ('IGNORE') x 3;

    $_->destroy for @NETS;
    _netdelay_stop($_) for @{[ @DELAYERS ]};

    $? = $status;
}


###########################################################################
# what a watcher saw

package EngramNet::Watch;

use strict;
use warnings;


# Stops the watcher (idempotent) and reads what it saw: a list of samples,
# each { t => seconds since watch(), observer => index, members => { id
# => [state, incarnation] } or undef when the observer did not answer,
# metrics => { name => value } }.
sub stop {
    my ($self) = @_;

    if ($self->{pid}) {
        kill 'TERM', $self->{pid};
        waitpid($self->{pid}, 0);
        my $net = $self->{net};
        $net->{watches} = [ grep { $_ != $self->{pid} }
                            @{ $net->{watches} } ];
        delete $self->{pid};
    }

    return $self if $self->{samples};

    my @samples;

    open my $fh, '<', $self->{file} or die "$self->{file}: $!";

    while (my $line = <$fh>) {
        chomp $line;
        my ($t, $obs, @rest) = split ' ', $line;
        next unless defined $obs;

        my %metrics = map { /^\@(.+)=(.*)$/ ? ($1 => $2) : () } @rest;
        @rest = grep { !/^\@/ } @rest;

        my $m;

        if (@rest && $rest[0] ne '-') {
            $m = { map { /^(.+)=(\w+):(\d*)$/ ? ($1 => [$2, $3]) : () }
                   @rest };
        }

        push @samples, { t => $t, observer => $obs, members => $m,
                         metrics => \%metrics };
    }

    close $fh;
    unlink $self->{file};

    $self->{samples} = \@samples;

    return $self;
}


sub samples { @{ $_[0]->stop->{samples} } }


# how many samples an observer answered (all observers without one)
sub answered {
    my ($self, $obs) = @_;
    return scalar grep { $_->{members}
                         && (!defined $obs || $_->{observer} == $obs) }
                  $self->samples;
}


# the observers that never answered
sub silent {
    my ($self) = @_;

    my %seen;
    $seen{ $_->{observer} } ||= !!$_->{members} for $self->samples;

    return sort { $a <=> $b } grep { !$seen{$_} } keys %seen;
}


# Every time someone saw one of the "live" members (indexes or ids) in
# another state than alive, or not at all, as "T s: nO saw ID STATE",
# the first sample of each run of the same observation only. Observers
# listed in "ignore" (a paused node's own view, say) are left out, and
# so are samples before "from" and after "until" (seconds since watch()).
sub flaps {
    my ($self, %opts) = @_;

    my $net = $self->{net};
    my @live = map { /^\d+$/ ? $net->id($_) : $_ } @{ $opts{live} // [] };
    my %ignore = map { $_ => 1 } @{ $opts{ignore} // [] };

    my (@out, %last);

    for my $s ($self->samples) {
        next if $ignore{ $s->{observer} } || !$s->{members};
        next if defined $opts{from} && $s->{t} < $opts{from};
        next if defined $opts{until} && $s->{t} > $opts{until};

        for my $id (@live) {
            my $state = ($s->{members}{$id} // ['absent'])->[0];
            my $key = "$s->{observer} $id";

            if ($state ne 'alive' && ($last{$key} // '') ne $state) {
                push @out, sprintf('%.1f s: %s saw %s %s', $s->{t},
                                   $net->id($s->{observer}), $id, $state);
            }

            $last{$key} = $state;
        }
    }

    return @out;
}


# the states in which anyone saw member $id (index or id), as a hash
# state => number of samples
sub states_of {
    my ($self, $who, %opts) = @_;

    my $id = $who =~ /^\d+$/ ? $self->{net}->id($who) : $who;
    my %ignore = map { $_ => 1 } @{ $opts{ignore} // [] };
    my %n;

    for my $s ($self->samples) {
        next if $ignore{ $s->{observer} } || !$s->{members};
        $n{ ($s->{members}{$id} // ['absent'])->[0] }++;
    }

    return \%n;
}


# the incarnations at which anyone listed member $id, sorted
sub incarnations_of {
    my ($self, $who) = @_;

    my $id = $who =~ /^\d+$/ ? $self->{net}->id($who) : $who;
    my %inc;

    for my $s ($self->samples) {
        my $e = $s->{members} && $s->{members}{$id} or next;
        $inc{ $e->[1] } = 1 if $e->[1] ne '';
    }

    return sort { $a <=> $b } keys %inc;
}


# the highest value a metric took (watch's "metrics"), and the id of the
# node it was on: (value, id), (undef) if it was never read
sub max_metric {
    my ($self, $name, %opts) = @_;

    my ($max, $on);

    for my $s ($self->samples) {
        next if defined $opts{from} && $s->{t} < $opts{from};
        next if defined $opts{until} && $s->{t} > $opts{until};
        my $v = $s->{metrics}{$name} // next;
        ($max, $on) = ($v, $s->{observer}) if !defined $max || $v > $max;
    }

    return defined $max ? ($max, $self->{net}->id($on)) : (undef);
}


# the first time (seconds since watch()) from which observer $obs always
# listed member $who in $state until the end, or undef
sub settled {
    my ($self, $obs, $who, $state) = @_;

    my $id = $who =~ /^\d+$/ ? $self->{net}->id($who) : $who;
    my $since;

    for my $s ($self->samples) {
        next unless $s->{observer} == $obs && $s->{members};
        my $st = ($s->{members}{$id} // ['absent'])->[0];

        if ($st eq $state) {
            $since //= $s->{t};
        } else {
            undef $since;
        }
    }

    return $since;
}


1;
