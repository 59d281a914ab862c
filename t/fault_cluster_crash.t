#!/usr/bin/perl

# Fault: the cluster process of a node killed with signal 9, its master
# and workers left running, in a cluster of five, each node in a network
# namespace of its own (t/lib/EngramNet.pm) with every SWIM timing at its
# default. The master starts a new cluster process at once, which
# resumes from the member table in shared memory, on the same gossip
# address: no peer ever sees the node suspect or dead, and its
# incarnation stays the same.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);
use Engram qw(wait_for);
use EngramNet;


my $N = 5;
my $K = 3;              # the node whose cluster process is killed

my $net = EngramNet->cluster(size => $N);

my @all = (1 .. $N);
my $id = $net->id($K);
my $t = $net->node($K);

$net->wait_figures;

my %before = map { $_ => $net->metrics($_) } @all;
my $inc = $net->members($K)->{$id}{incarnation};


subtest "the cluster process of $id killed with signal 9" => sub {
    my $w = $net->watch(interval => 0.1);
    sleep 1;

    my $master = $t->master_pid;
    my @workers = $t->active_worker_pids;
    my $from = $t->log_offset;

    my $old = $net->kill_cluster($K);
    ok($old, "$id had a cluster process ($old)");

    my $new;
    ok(wait_for(sub { $new = $t->cluster_pid; $new && $new != $old }),
       'its master started a new one (' . ($new // 'none') . ')');
    ok($t->wait_for_log(qr/\[notice\] \d+#0: resumed with 4 members from the/,
                        from => $from),
       'which resumed with the four others from the member table');
    is($t->master_pid, $master, 'the master is the same');
    is_deeply([$t->active_worker_pids], \@workers, 'so are the workers');

    # long enough for everyone to probe it twice over and to suspect it
    # if it were silent: each of the four others pings it once a round
    # of four probe intervals
    my $probes = $net->metric_sum('engram_swim_probes_total');
    ok(wait_for(sub { $net->metric_sum('engram_swim_probes_total')
                      >= $probes + 4 * 2 * ($N - 1) }, 30),
       'the others probed two rounds more');
    sleep 1;

    $w->stop;

    my @flaps = $w->flaps(live => \@all);
    is(scalar @flaps, 0, "no node ever listed $id (or anyone) other than "
                         . 'alive, ' . $w->answered . ' samples')
        or diag(join "\n", @flaps);

    my $asked = grep { $_->{observer} == $K } $w->samples;
    is($w->answered($K), $asked, "$id answered the watcher all along, "
                                 . "$asked times (its workers run on)");

    is_deeply([$w->incarnations_of($K)], [$inc],
              "every node listed $id at incarnation $inc, every time");

    for my $i (@all) {
        my $m = $net->metrics($i) // {};

        for my $name ('engram_swim_suspicions_total',
                      'engram_swim_refutations_total')
        {
            is($m->{$name}, $before{$i}{$name},
               $net->id($i) . ": $name as before ($before{$i}{$name})");
        }
    }

    ok($net->agree(\@all, alive => \@all), 'all five alive everywhere')
        or diag($net->why);
};


done_testing;
