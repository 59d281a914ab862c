#!/usr/bin/perl

# Fault: a link that fails one way. In a cluster of five, each node in a
# network namespace of its own (t/lib/EngramNet.pm) with every SWIM timing
# at its default, every packet n1 sends to n2 is lost for 20 seconds,
# while n2's packets to n1 get through. n1's pings to n2 and n2's acks
# to n1 are lost: each of them fails its direct probes of the other, but
# the indirect probes through the three other nodes succeed (n1 asks n3
# to ping n2, n2 acks to n3, n3 relays to n1; the same the other way).
#
# What every node sees, all along: all five alive, nobody suspected. TCP
# between n1 and n2 cannot work (a handshake needs both ways), so their
# push-pulls with each other fail, which changes nothing either: the
# other three carry the news.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use EngramNet;


my $N = 5;
my $CUT = 20;

my $net = EngramNet->cluster(size => $N);

my @all = (1 .. $N);

$net->wait_figures;

my $suspicions = $net->metric_sum('engram_swim_suspicions_total');
my $failures = $net->metric_sum('engram_swim_probe_failures_total');
my @inc = map { $net->members($_)->{ $net->id($_) }{incarnation} } @all;


subtest "n1's packets to n2 lost for $CUT s, n2's to n1 not" => sub {
    my $w = $net->watch(interval => 0.25);

    $net->cut(1, 2, oneway => 1);
    sleep $CUT;

    my $lost = $net->drop_counts->{'from 1: cut to 2'} // 0;
    my $back = $net->drop_counts->{'from 2: cut to 1'};

    $net->heal;
    $w->stop;

    # n1 pings n2 once a round of four probes, and acks n2's pings as
    # often: some ten packets, and the gossip between them
    cmp_ok($lost, '>=', 5, "the link dropped n1's packets to n2 ($lost)");
    ok(!defined $back, "and nothing of n2's to n1");

    cmp_ok($w->answered, '>=', $N * $CUT * 3, 'the watcher read every node '
                                              . 'about four times a second');

    my @flaps = $w->flaps(live => \@all);
    is(scalar @flaps, 0, 'every node listed all five alive in every sample')
        or diag(join "\n", @flaps);

    is($net->metric_sum('engram_swim_suspicions_total') - $suspicions, 0,
       'nobody suspected anyone (engram_swim_suspicions_total)');
    is($net->metric_sum('engram_swim_probe_failures_total') - $failures, 0,
       'no probe failed, the indirect ones included '
       . '(engram_swim_probe_failures_total)');

    for my $i (@all) {
        is($net->members($i)->{ $net->id($i) }{incarnation}, $inc[$i - 1],
           $net->id($i) . ' never had to refute: its incarnation is the '
           . 'same');
    }
};


subtest 'healed: still all alive everywhere' => sub {
    ok($net->agree(\@all, alive => \@all), 'all five alive on every node')
        or diag($net->why);
};


done_testing;
