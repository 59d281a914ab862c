#!/usr/bin/perl

# The fault harness itself (t/lib/EngramNet.pm): its faults do what they
# say, on plain UDP between the namespaces (a one-way cut is one way, a
# loss loses about its share, a partition cuts across groups only, heal
# undoes them, a delay lengthens a round trip by what it says, with
# netem or without), and it leaves nothing behind: not when a test dies,
# not when it is killed with SIGTERM, and what a test that could not
# clean up left is swept by the next run.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(inet_aton pack_sockaddr_in);
use Test::More;
use Time::HiRes qw(sleep time);
use Engram qw(wait_for run_command);
use EngramNet;


my $why = EngramNet::unavailable();
plan skip_all => $why if $why;

my $net = EngramNet->new(size => 3);
my $PORT = 9000;

# a UDP socket in each namespace, on the node's address
my %sock = map {
    my $i = $_;
    $i => $net->in_netns($i, sub {
        IO::Socket::INET->new(LocalAddr => $net->addr($i),
                              LocalPort => $PORT, Proto => 'udp')
            or die "udp socket in n$i: $!";
    });
} 1 .. 3;


# sends $n datagrams from node $from to node $to: how many arrived
sub through {
    my ($from, $to, $n) = @_;

    my $dest = pack_sockaddr_in($PORT, inet_aton($net->addr($to)));
    my $sel = IO::Select->new($sock{$to});
    my $got = 0;

    # what came, read as it comes: a full receive buffer would drop more
    my $drain = sub {
        my ($wait) = @_;
        while ($sel->can_read($wait)) {
            recv($sock{$to}, my $buf, 100, 0);
            $got++ if $buf =~ /^$from>$to /;
        }
    };

    for my $k (1 .. $n) {
        defined send($sock{$from}, "$from>$to $k", 0, $dest)
            or die "send from n$from: $!";
        $drain->(0.01) if $k % 20 == 0;
    }

    $drain->(0.3);

    return $got;
}


subtest 'untouched, every datagram arrives' => sub {
    is(through(1, 2, 50), 50, 'n1 to n2');
    is(through(2, 1, 50), 50, 'n2 to n1');
    is(through(3, 1, 50), 50, 'n3 to n1');
};


subtest 'a one-way cut drops one way only' => sub {
    $net->cut(1, 2, oneway => 1);

    is(through(1, 2, 50), 0, 'n1 to n2: none');
    is(through(2, 1, 50), 50, 'n2 to n1: all');
    is(through(1, 3, 50), 50, 'n1 to n3: all');
    is($net->drop_counts->{'from 1: cut to 2'}, 50,
       'the rule counted the 50 it dropped');
    is($net->dropped(1), 50, 'dropped(1) says so');
    is($net->dropped(2), 0, 'and dropped(2) nothing');

    $net->heal;
    is(through(1, 2, 50), 50, 'healed: n1 to n2, all');
};


subtest 'a cut both ways, healed by pair' => sub {
    $net->cut(2, 3);

    is(through(2, 3, 20), 0, 'n2 to n3: none');
    is(through(3, 2, 20), 0, 'n3 to n2: none');
    is(through(1, 3, 20), 20, 'n1 to n3: all');

    $net->heal(3, 2);
    is(through(2, 3, 20), 20, 'healed: n2 to n3');
    is(through(3, 2, 20), 20, 'and n3 to n2');
};


subtest 'a partition cuts across the groups only' => sub {
    $net->partition([1], [2, 3]);

    is(through(1, 2, 20), 0, 'n1 to n2: none');
    is(through(3, 1, 20), 0, 'n3 to n1: none');
    is(through(2, 3, 20), 20, 'n2 to n3: all');

    $net->heal;
    is(through(3, 1, 20), 20, 'healed: n3 to n1');
};


subtest 'loss drops about its share, on the side it is set' => sub {
    $net->loss(1, 30, dir => 'out');

    my $got = through(1, 2, 1000);
    ok($got > 600 && $got < 800, "30 % out of n1: $got of 1000 arrive");
    is(through(2, 1, 200), 200, 'nothing lost on the way in');

    $net->loss(1, 30, dir => 'in');
    $got = through(2, 1, 1000);
    ok($got > 600 && $got < 800, "30 % into n1 as well: $got of 1000 "
                                 . 'arrive');

    # a packet crosses two links: its sender's, out, and its receiver's
    $net->loss(2, 30);
    $got = through(2, 1, 1000);
    ok($got > 400 && $got < 600, "30 % on n2's link too: $got of 1000 "
                                 . 'arrive (0.7 * 0.7 = 49 %)');
    $net->clear(2);

    $net->clear(1);
    is(through(1, 2, 200), 200, 'cleared: nothing lost');
    is(through(2, 1, 200), 200, 'either way');
};


# the round trips of $n datagrams from node $from to node $to and back
# (node $to's socket echoes each), in seconds, sorted
sub round_trips {
    my ($from, $to, $n) = @_;

    my $there = pack_sockaddr_in($PORT, inet_aton($net->addr($to)));
    my $back = pack_sockaddr_in($PORT, inet_aton($net->addr($from)));
    my @rtt;

    for my $k (1 .. $n) {
        my $start = time;

        defined send($sock{$from}, "ping $k", 0, $there)
            or die "send from n$from: $!";

        IO::Select->new($sock{$to})->can_read(5) or next;
        recv($sock{$to}, my $ping, 100, 0);
        defined send($sock{$to}, $ping, 0, $back) or die "send from n$to: $!";

        IO::Select->new($sock{$from})->can_read(5) or next;
        recv($sock{$from}, my $pong, 100, 0);

        push @rtt, time - $start if $pong eq "ping $k";
    }

    return sort { $a <=> $b } @rtt;
}


sub median { $_[@_ / 2] }


subtest 'delay adds its time to a round trip, and goes' => sub {
    my $no = EngramNet::delay_unavailable();
    plan skip_all => $no if $no;

    my $how = EngramNet::delay_method();
    note("delay by $how");

    my @before = round_trips(1, 2, 10);
    is(scalar @before, 10, 'undelayed, every ping comes back');
    my $base = median(@before);

    # both ways on node 1's link: out to n2, then in from it
    $net->delay(1, 100, jitter => 20);

    my @rtt = round_trips(1, 2, 10);
    is(scalar @rtt, 10, 'delayed, every ping comes back');
    my $added = median(@rtt) - $base;
    ok($added >= 0.12 && $added < 1,
       sprintf('100 ms +- 20 each way add %.0f ms to the round trip '
               . '(%.2f ms before)', 1000 * $added, 1000 * $base));
    cmp_ok($rtt[-1] - $rtt[0], '>', 0.005,
           sprintf('the jitter spreads them: %.0f to %.0f ms',
                   1000 * $rtt[0], 1000 * $rtt[-1]));
    cmp_ok(median(round_trips(2, 3, 5)), '<', $base + 0.05,
           'n2 to n3 is not delayed');

    # one way only
    $net->delay(1, 100, jitter => 20, dir => 'out');
    $added = median(round_trips(1, 2, 10)) - $base;
    ok($added >= 0.06 && $added < 0.16,
       sprintf('on what n1 sends only: %.0f ms more', 1000 * $added));

    $net->delay(1, 0);
    my $after = median(round_trips(1, 2, 10));
    ok($after < $base + 0.05,
       sprintf('removed: %.2f ms again', 1000 * $after));

    if ($how eq 'nfqueue') {
        is($net->delayed(1), 10, 'the delayer held the 10 pings n1 sent, '
                                 . 'and no more');
        is(through(1, 2, 50), 50, 'and none is held since');
    }

    $net->delay(1, 300, dir => 'in');
    $net->clear(1);
    cmp_ok(median(round_trips(1, 2, 3)), '<', $base + 0.05,
           'clear() removes it too');
};


# a test (the script below) that makes a network of two nodes, starts
# them, pauses one, starts a watcher, says the names of what it made,
# then ends as $how says
sub orphan {
    my ($how) = @_;

    my $dir = tempdir('engram-harness-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $script = "$dir/fault_orphan.pl";

    open my $fh, '>', $script or die "$script: $!";
    print {$fh} <<"END";
BEGIN { open STDERR, '>', '$dir/stderr' or die \$! }
use strict;
use warnings;
use lib '$FindBin::Bin/lib';
use Test::More;
use EngramNet;

\$| = 1;
my \$net = EngramNet->new(size => 2);
\$net->start_cluster;
\$net->pause(2);
my \$w = \$net->watch;
\$net->delay(1, 10) unless EngramNet::delay_unavailable();
print "ns \$_\\n" for \@{ \$net->{nss} };
print "pid \$_\\n" for \$net->pids(1), \$net->pids(2);
print "pid \$net->{delay}{1}{pid}\\n" if ref \$net->{delay}{1};
print "ready\\n";
if ('$how' eq 'die') { die "on purpose\\n" }
sleep 60;
END
    close $fh;

    my $pid = open my $out, '-|', $^X, $script or die "$^X: $!";
    my (@ns, @pids);

    while (my $line = <$out>) {
        push @ns, $1 if $line =~ /^ns (\S+)/;
        push @pids, $1 if $line =~ /^pid (\d+)/;

        if ($line =~ /^ready/) {
            kill 'TERM', $pid if $how eq 'term';
        }
    }

    close $out;

    return (\@ns, \@pids);
}


sub namespaces {
    my $r = run_command(['ip', 'netns', 'list'], timeout => 10);
    return map { /^(\S+)/ ? $1 : () } split /\n/, $r->{stdout};
}


for my $how ('die', 'term') {
    subtest "a test that ends with " . ($how eq 'die' ? 'die' : 'SIGTERM')
            . ' leaves nothing behind' => sub {
        my ($ns, $pids) = orphan($how);

        is(scalar @$ns, 3, "it made a hub and two nodes (@$ns)");
        cmp_ok(scalar @$pids, '>=', 6, 'whose processes ran '
                                       . "(@$pids), one node paused");

        my %now = map { $_ => 1 } namespaces();
        is_deeply([grep { $now{$_} } @$ns], [], 'its namespaces are gone');
        ok(wait_for(sub { !grep { Engram::pid_alive($_) } @$pids }, 5),
           'and so are its processes');
    };
}


subtest "what a run killed with signal 9 left is swept by the next" => sub {
    my $dead = fork // die "fork: $!";
    POSIX::_exit(0) if $dead == 0;
    waitpid($dead, 0);

    # a namespace named as that run's, with a process left in it
    my $stale = "eg-fault_harness-$dead-n1";
    run_command(['ip', 'netns', 'add', $stale], timeout => 10);
    ok((grep { $_ eq $stale } namespaces()), "$stale is there");

    my $left = fork // die "fork: $!";

    if ($left == 0) {
        POSIX::setsid();
        { exec 'ip', 'netns', 'exec', $stale, 'sleep', '300'; }
        POSIX::_exit(127);
    }

    ok(wait_for(sub {
           run_command(['ip', 'netns', 'pids', $stale])->{stdout} =~ /\d/
       }, 5), "a process runs in it ($left)");

    my $next = EngramNet->new(size => 1);
    ok(!(grep { $_ eq $stale } namespaces()),
       'the next network of this test swept the namespace');
    is(waitpid($left, 0), $left, 'and killed the process');
    $next->destroy;
};


done_testing;
