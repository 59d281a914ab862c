#!/usr/bin/perl

# Fault: a 50/50 partition. Six nodes, each in a network namespace of its
# own (t/lib/EngramNet.pm), with every SWIM timing at its default, are
# cut into n1-n3 and n4-n6 for 60 seconds: each side finds the other
# dead, and stays whole itself. When the links come back, the two sides
# merge into one cluster again with no help: every node lists all six
# alive within the bound derived below.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use List::Util qw(max);
use POSIX qw(log10);
use Test::More;
use Time::HiRes qw(sleep time);
use EngramNet;


my $N = 6;
my @left = (1, 2, 3);
my @right = (4, 5, 6);
my $PARTITION = 60;

# the defaults (docs/protocol.md, "Timers and defaults"), in seconds
my %swim = (probe_interval => 1, suspicion_mult => 4,
            reconnect_interval => 30, discovery_refresh => 30);

# Finding the other side dead. Each side loses three members at once.
# Every node probes the five others in a shuffled round, so it pings each
# lost one within 2 (N - 1) probe intervals, and holds it suspect one
# interval after the ping; the suspicion lasts min = suspicion_mult *
# max(1, log10 N) * probe_interval = 4 s once the two other nodes of its
# side confirmed it (k = suspicion_mult - 2 = 2), at most Lifeguard's
# max = suspicion_max_mult * min = 24 s; then it is gossiped at once.
# That would be 35 s, but for a node that lost half of the cluster its
# local health multiplier rises too (the helpers it asks to ping a lost
# member are often lost themselves, and send no nack): its probes slow
# down, by up to awareness_max = 8 times. The bound that holds is the
# partition itself: each side must see the other dead before it heals.
my $min = $swim{suspicion_mult} * max(1, log10($N)) * $swim{probe_interval};
my $DETECT = $PARTITION;

# Merging again. Gossip does not cross: nobody probes a dead member, and
# the deaths are older than gossip_to_dead by then. What crosses is a
# stream exchange with a dead member: a push-pull with one of them every
# reconnect_interval, and a JOIN to each seed that is no live member
# every discovery_refresh (each alone is enough). The first exchange
# after the heal tells each node that the other side holds it dead, and
# it refutes with a higher incarnation; the next, within another
# interval, brings that higher incarnation across, and the other side
# takes it alive (an alive record at the incarnation it holds dead would
# not do). The snapshots also make each node suspect the members of its
# own side that the other holds dead, to be refuted within a probe round
# and a suspicion. So: two intervals, a probe round and a suspicion.
my $HEAL = 2 * max($swim{reconnect_interval}, $swim{discovery_refresh})
           + ($N - 1) * $swim{probe_interval} + $min;

note(sprintf 'bounds: each side finds the other dead within %.1f s, '
             . 'the halves merge within %.1f s of the heal', $DETECT, $HEAL);


my $net = EngramNet->cluster(size => $N);

my @inc = map { $net->members($_)->{ $net->id($_) }{incarnation} } 1 .. $N;


my $w = $net->watch(interval => 0.5,
                    metrics => ['engram_swim_local_health']);
my ($cut, $detected);


subtest 'cut into n1-n3 and n4-n6: each side finds the other dead' => sub {
    $cut = time - $w->{start};
    $net->partition(\@left, \@right);

    my $l = $net->wait_agree(\@left, alive => \@left, dead => \@right,
                             timeout => $DETECT);
    ok(defined $l, 'n1, n2 and n3 list n4, n5 and n6 dead, themselves '
                   . 'alive' . (defined $l ? sprintf(' (%.1f s)', $l) : ''))
        or diag($net->why);

    my $r = $net->wait_agree(\@right, alive => \@right, dead => \@left,
                             timeout => $cut + $DETECT
                                        - (time - $w->{start}));
    $detected = time - $w->{start};
    ok(defined $r, 'n4, n5 and n6 list n1, n2 and n3 dead, themselves '
                   . 'alive' . sprintf(' (%.1f s)', $detected - $cut))
        or diag($net->why);
};


subtest "$PARTITION s apart: the sides stay as they are" => sub {
    my $left = $w->{start} + $cut + $PARTITION - time;
    sleep $left if $left > 0;

    $w->stop;
    cmp_ok($w->answered, '>=', $N * $PARTITION, 'the watcher read every '
                                                . 'node twice a second');

    my ($health, $on) = $w->max_metric('engram_swim_local_health');
    note('the worst local health multiplier was ' . ($health // '?')
         . ', on ' . ($on // 'none'));

    # from the cut on, nobody doubts its own side; once the others are
    # found dead, they stay dead
    my (@doubt, @back);

    for my $s ($w->samples) {
        my $m = $s->{members} or next;
        my $mine = grep { $_ == $s->{observer} } @left;

        # what the sample says of node $i, if it is not $want
        my $odd = sub {
            my ($i, $want) = @_;
            my $got = ($m->{ $net->id($i) } // ['absent'])->[0];
            return () if $got eq $want;
            return sprintf('%.1f s: %s saw %s %s', $s->{t} - $cut,
                           $net->id($s->{observer}), $net->id($i), $got);
        };

        push @doubt, map { $odd->($_, 'alive') } $mine ? @left : @right;
        push @back, map { $odd->($_, 'dead') } $mine ? @right : @left
            if $s->{t} >= $detected;
    }

    is(scalar @doubt, 0, 'every node listed its own side alive in every '
                         . 'sample')
        or diag(join "\n", @doubt[0 .. ($#doubt > 20 ? 20 : $#doubt)]);
    is(scalar @back, 0, 'and the other side dead, once found so')
        or diag(join "\n", @back[0 .. ($#back > 20 ? 20 : $#back)]);

    cmp_ok($net->dropped, '>', 0, 'the cut links dropped packets ('
                                  . $net->dropped . ')');
};


subtest 'healed: one cluster again' => sub {
    $net->heal;

    my $took = $net->wait_agree([1 .. $N], alive => [1 .. $N],
                                timeout => $HEAL);
    ok(defined $took, 'every node lists all six alive'
                      . (defined $took ? sprintf(' (%.1f s)', $took) : ''))
        or diag(join "\n", $net->why, map { $net->view($_) } 1 .. $N);

    for my $i (1 .. $N) {
        my $m = $net->members($i) // {};
        cmp_ok($m->{ $net->id($i) }{incarnation} // 0, '>', $inc[$i - 1],
               $net->id($i) . ' refuted its death with a higher incarnation');
    }

    # a while more: the merge holds
    sleep 3;
    ok($net->agree([1 .. $N], alive => [1 .. $N]),
       'three seconds later, still all alive everywhere')
        or diag($net->why);
};


done_testing;
