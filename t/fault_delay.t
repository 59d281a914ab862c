#!/usr/bin/perl

# Fault: a slow network. Five nodes, each in a network namespace of its
# own (t/lib/EngramNet.pm), with every SWIM timing at its default, send
# every packet 150 ms late, give or take 50 ms (so a round trip takes
# 200 to 400 ms, under the 500 ms probe_timeout), for 30 s: a slow link
# is not a dead one, so nobody is ever listed dead by anyone, and all
# five are alive at the end. Then, for a few seconds, 600 ms +- 100 ms
# (a round trip of 1 s or more, past the probe interval): probes fail,
# which shows that the delay is really there, and once it is gone every
# node lists all five alive again.
#
# The delay is tc netem where the kernel has it, else iptables NFQUEUE
# and t/netdelay.c; the test skips, saying why, where neither works.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use EngramNet;


my $N = 5;
my $DURATION = 30;

my @all = (1 .. $N);

my $why = EngramNet::unavailable() || EngramNet::delay_unavailable();
plan skip_all => $why if $why;

note('delay by ' . EngramNet::delay_method());

my $net = EngramNet->cluster(size => $N);

# the counters before: the cluster process publishes them once a second
$net->wait_figures;

my @COUNTERS = qw(engram_swim_probes_total engram_swim_probe_failures_total
                  engram_swim_suspicions_total
                  engram_swim_refutations_total);


sub counters {
    return { map { $_ => $net->metric_sum($_) } @COUNTERS };
}


sub diff {
    my ($before, $after) = @_;
    return { map { $_ => $after->{$_} - $before->{$_} } @COUNTERS };
}


subtest "150 ms +- 50 on every link for $DURATION s: nobody is declared dead"
=> sub {
    my $before = counters();
    my $w = $net->watch(interval => 0.5);

    # on what each node sends only: a packet waits on its sender's link
    # alone, so a probe and its ACK take 300 ms +- 100 ms
    $net->delay($_, 150, jitter => 50, dir => 'out') for @all;
    sleep $DURATION;

    my $took = $net->wait_agree(\@all, alive => \@all, timeout => 5);
    $w->stop;

    ok(defined $took, 'still delayed, every node lists all five alive')
        or diag(join "\n", $net->why, map { $net->view($_) } @all);

    cmp_ok($w->answered, '>=', $N * $DURATION, 'the watcher read every '
                                               . 'node about twice a second');

    my @dead = grep { /dead|absent|left/ } $w->flaps(live => \@all);
    is(scalar @dead, 0, 'no node was ever listed dead (or missing) by '
                        . 'anyone')
        or diag(join "\n", @dead);

    my $d = diff($before, counters());
    my @suspect = grep { /suspect/ } $w->flaps(live => \@all);

    note(sprintf '%d probes, %d of them failed; %d suspicions, %d '
                 . 'refutations (%d seen by the watcher)', @$d{@COUNTERS},
                 scalar @suspect);

    $net->delay($_, 0) for @all;

    if (EngramNet::delay_method() eq 'nfqueue') {
        my @held = map { $net->delayed($_) // 0 } @all;
        is(scalar(grep { $_ > 0 } @held), $N,
           "every node's delayer held its packets (@held)");
    }
};


subtest 'a round trip past the probe interval: probes fail' => sub {
    my $before = counters();

    # a probe and its ACK: 1 s at least, so the ACK comes after the
    # probe's round is over. Each node's first probe fails; then its
    # local health (Lifeguard) stretches its rounds, and fewer do.
    $net->delay($_, 600, jitter => 100, dir => 'out') for @all;
    sleep 6;

    my $d = diff($before, counters());
    $net->delay($_, 0) for @all;

    note(sprintf '%d probes, %d of them failed; %d suspicions, %d '
                 . 'refutations', @$d{@COUNTERS});

    cmp_ok($d->{engram_swim_probe_failures_total}, '>=', 2,
           'the failed probes rise: the delay is really there');
};


subtest 'the delay gone: every node lists all five alive' => sub {
    my $took = $net->wait_agree(\@all, alive => \@all, timeout => 30);
    ok(defined $took, 'all alive everywhere'
                      . (defined $took ? sprintf(' (%.1f s)', $took) : ''))
        or diag(join "\n", $net->why, map { $net->view($_) } @all);
};


done_testing;
