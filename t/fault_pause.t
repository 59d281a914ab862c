#!/usr/bin/perl

# Fault: a node paused for five seconds (every process of it stopped with
# SIGSTOP, as a VM that stalls or a process swapped out) in a cluster of
# six, each node in a network namespace of its own (t/lib/EngramNet.pm),
# with every SWIM timing at its default. The others suspect it, but a
# suspicion lasts longer than what is left of the pause: nobody declares
# it dead, it refutes the suspicion as soon as it runs again, and then
# every node lists all six alive.
#
# The margin, with the defaults: nobody can suspect the node before one
# probe interval (1 s) after its first unanswered ping, sent after the
# pause began, and the suspicion then lasts at least min =
# suspicion_mult * max(1, log10 N) * probe_interval = 4 s (when two
# other nodes confirm it; 11.4 s with one, 24 s alone). So the earliest
# death is 5 s after the pause began plus the time to the first ping of
# it, which the node outruns: on SIGCONT it reads the pings that waited
# in its socket, carrying the suspicion (the buddy system), and refutes
# in their late acks, within milliseconds. A pause of 9 s is declared
# dead some 6 s in.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use EngramNet;


my $N = 6;
my $P = 6;              # the node paused
my $PAUSE = 5;

my $net = EngramNet->cluster(size => $N);

my @all = (1 .. $N);
my @others = grep { $_ != $P } @all;
my $id = $net->id($P);
my $inc = $net->members($P)->{$id}{incarnation};


subtest "$id paused for $PAUSE s" => sub {
    my $w = $net->watch(interval => 0.2);
    sleep 1;

    my $t0 = time - $w->{start};
    my @pids = $net->pause($P);
    ok(scalar @pids >= 3, "every process of $id stopped (@pids)");

    sleep $PAUSE - (time - $w->{start} - $t0);
    my $t1 = time - $w->{start};
    $net->resume($P);

    # every suspicion started in the pause has ended, refuted, by now
    my $took = $net->wait_agree(\@all, alive => \@all, timeout => 30);
    sleep 2;
    $w->stop;

    ok(defined $took, 'then every node lists all six alive'
                      . (defined $took ? sprintf(' (%.1f s after)', $took)
                                       : ''))
        or diag(join "\n", $net->why, map { $net->view($_) } @all);

    # the requests made and timed out (1 s) within the pause
    my @pause = grep { $_->{observer} == $P && $_->{t} > $t0 + 0.1
                       && $_->{t} + 1.1 < $t1 } $w->samples;
    ok(@pause && !grep({ $_->{members} } @pause),
       "$id answered nothing while it was paused");

    my %seen = %{ $w->states_of($P, ignore => [$P]) };
    note("the others saw $id " . join(', ', map { "$_ in $seen{$_} samples" }
                                            sort keys %seen));

    ok($seen{suspect}, "the others suspected $id: the pause was felt");
    ok(!$seen{dead}, "nobody listed $id dead");

    my @dead = grep { /dead|absent|left/ } $w->flaps(live => \@all);
    is(scalar @dead, 0, 'nobody listed anyone dead, the paused node '
                        . 'included')
        or diag(join "\n", @dead);

    my @after = $w->flaps(live => \@all, from => $t1 + $took + 0.5);
    is(scalar @after, 0, 'and nobody suspected anyone once all agreed')
        or diag(join "\n", @after);

    my $now = $net->members($P)->{$id}{incarnation};
    cmp_ok($now, '>', $inc, "$id refuted the suspicion with a higher "
                            . "incarnation ($inc, now $now)");
};


done_testing;
