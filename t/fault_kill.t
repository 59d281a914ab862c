#!/usr/bin/perl

# Fault: a whole node killed with signal 9 (master, workers and cluster
# process: the crash of its host) in a cluster of five, each node in a
# network namespace of its own (t/lib/EngramNet.pm) with every SWIM
# timing at its default. Every other node lists it dead within the bound
# the configuration gives (derived below), and the four stay alive to
# each other all along.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use List::Util qw(max);
use POSIX qw(ceil log10);
use Test::More;
use Time::HiRes qw(sleep time);
use EngramNet;


my $N = 5;
my $K = 5;              # the node killed

# the defaults (docs/protocol.md, "Timers and defaults"), in seconds
my %swim = (probe_interval => 1, suspicion_mult => 4, suspicion_max_mult => 6,
            retransmit_mult => 4, gossip_interval => 0.2);

# The bound, from the moment of the kill:
#
#  - probing: each survivor pings every other member once per round of
#    N - 1 probes, in a shuffled order, so it pings the dead node within
#    2 (N - 1) - 1 probe intervals (first in a round, last in the next,
#    at worst), and holds it suspect one probe interval after that ping
#    (no ack, direct or through its helpers, by the next probe). Its
#    local health multiplier stays 0: its helpers, alive, answer with
#    nacks, which tell it the target is the problem, not itself.
#
#  - suspicion: it lasts at least
#        min = suspicion_mult * max(1, log10 N) * probe_interval = 4 s
#    and at most Lifeguard's max = suspicion_max_mult * min = 24 s, for
#    an accuser that no other confirms. Every survivor times its own.
#
#  - dissemination: the first to declare it dead gossips that at once
#    (a round out of turn), and each record goes out retransmit_mult *
#    ceil(log10(N + 1)) times, one gossip interval apart at worst; a
#    survivor whose own suspicion has not run out takes the news.
#
# So: (2 (N - 1) - 1) * probe_interval + probe_interval + max
#     + retransmit_mult * ceil(log10(N + 1)) * gossip_interval.
my $min = $swim{suspicion_mult} * max(1, log10($N)) * $swim{probe_interval};
my $max = $swim{suspicion_max_mult} * $min;
my $BOUND = (2 * ($N - 1) - 1) * $swim{probe_interval}
            + $swim{probe_interval} + $max
            + $swim{retransmit_mult} * ceil(log10($N + 1))
              * $swim{gossip_interval};

note(sprintf 'bound: %.1f s (min suspicion %.0f s, max %.0f s)', $BOUND,
             $min, $max);


my $net = EngramNet->cluster(size => $N);

my @all = (1 .. $N);
my @rest = grep { $_ != $K } @all;
my $id = $net->id($K);


subtest "$id killed with signal 9: everyone finds it dead in time" => sub {
    my $w = $net->watch(observers => \@rest, interval => 0.2);
    sleep 1;

    my @pids = $net->pids($K);
    cmp_ok(scalar @pids, '>=', 3, "$id has its processes (@pids)");

    my $t0 = time - $w->{start};
    ok($net->kill_node($K), 'they are all gone');

    my $took = $net->wait_agree(\@rest, alive => \@rest, dead => [$K],
                                timeout => $BOUND + 5);

    # the watcher's last samples show it too
    sleep 1;
    $w->stop;

    ok(defined $took, "every other node lists $id dead")
        or diag(join "\n", $net->why, map { $net->view($_) } @rest);

    for my $i (@rest) {
        my $at = $w->settled($i, $K, 'dead');
        ok(defined $at && $at - $t0 <= $BOUND,
           sprintf('%s lists %s dead %.1f s after the kill, within %.1f s',
                   $net->id($i), $id, defined $at ? $at - $t0 : -1,
                   $BOUND));
    }

    my %seen = %{ $w->states_of($K) };
    ok(!$seen{left}, "nobody took $id for a node that left");
    ok($seen{suspect}, "$id was suspect before it was dead");

    my @flaps = $w->flaps(live => \@rest);
    is(scalar @flaps, 0, 'the other four listed each other alive all along')
        or diag(join "\n", @flaps);
};


done_testing;
