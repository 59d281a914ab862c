#!/usr/bin/perl

# Cluster mode: QUIT to a node's master makes it leave the cluster
# gracefully: the others list it "left", never suspect or dead, and its
# processes exit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


my @ids = qw(l0 l1 l2);
my @n = map { Engram->new } @ids;

for my $i (0 .. $#n) {
    $n[$i]->write_cluster_config(id => $ids[$i], ip => '127.0.0.' . (51 + $i),
                                 seeds => [$n[0]]);
}

$_->start for @n;


sub state_of {
    my ($i, $id) = @_;
    my $m = cluster_members($n[$i]->port('http')) // {};
    return $m->{$id}{state} // '';
}


sub metric {
    my ($i, $name) = @_;
    return (metrics($n[$i]->port('http')) // {})->{$name};
}


for my $i (0 .. $#n) {
    ok(wait_for(sub { !grep { state_of($i, $_) ne 'alive' } @ids }),
       "$ids[$i] lists all alive")
        or BAIL_OUT('no cluster formed');
}

my $incarnation = (cluster_members($n[0]->port('http')) // {})
                  ->{l2}{incarnation};
my @pids = $n[2]->processes;
my $master = $n[2]->master_pid;

ok($n[2]->signal('QUIT'), 'QUIT is sent to the master of l2');


subtest 'l0 and l1 list l2 as left, and never as suspect or dead' => sub {
    for my $i (0, 1) {
        my %seen;

        ok(wait_for(sub {
               my $s = state_of($i, 'l2');
               $seen{$s}++;
               return $s eq 'left';
           }), "$ids[$i] lists l2 left");

        ok(!$seen{suspect} && !$seen{dead},
           "$ids[$i] never listed l2 suspect or dead")
            or diag("$ids[$i] listed l2 as: " . join(', ', sort keys %seen));
    }
};


subtest 'every process of l2 exits' => sub {
    ok($n[2]->wait_gone(@pids), 'master, workers and cluster process');
    ok($n[2]->log_lines(qr/\[notice\] \d+#0: leaving the cluster$/),
       'the cluster process logged "leaving the cluster"');
    ok($n[2]->log_lines(qr/\[notice\] \d+#0: left the cluster$/),
       'and "left the cluster"');
    ok($n[2]->log_lines(qr/\[notice\] $master#0: exit$/),
       'the master logged its exit');
};


# while l0 and l1 probe each other for a while, l2 stays "left"
subtest 'l2 stays left and is never suspected' => sub {
    my @probes = map { metric($_, 'engram_swim_probes_total') // 0 } 0, 1;
    my %seen;

    for my $i (0, 1) {
        ok(wait_for(sub {
               $seen{ state_of($_, 'l2') }++ for 0, 1;
               return (metric($i, 'engram_swim_probes_total') // 0)
                      >= $probes[$i] + 10;
           }, 30), "$ids[$i] probed ten more times");
    }

    is_deeply([keys %seen], ['left'], 'l2 was left every time')
        or diag(explain(\%seen));

    for my $i (0, 1) {
        is(metric($i, 'engram_swim_suspicions_total'), 0,
           "$ids[$i] suspected nobody");
        is(metric($i, 'engram_members{state="left"}'), 1,
           "$ids[$i]: engram_members{state=\"left\"} 1");
        is(metric($i, 'engram_members{state="dead"}'), 0,
           "$ids[$i]: engram_members{state=\"dead\"} 0");
        is(metric($i, 'engram_members{state="alive"}'), 2,
           "$ids[$i]: engram_members{state=\"alive\"} 2");
    }
};


subtest 'the leave raised the incarnation of l2' => sub {
    my $m = cluster_members($n[0]->port('http')) // {};
    cmp_ok($m->{l2}{incarnation} // 0, '>', $incarnation,
           'l0 has l2 at a higher incarnation than when it was alive');
};


subtest 'the nodes that stay are still alive to each other' => sub {
    for my $i (0, 1) {
        is(state_of($i, $_), 'alive', "$ids[$i] lists $_ alive") for qw(l0 l1);
    }
};


ok($n[0]->stop, 'l0 stops');
ok($n[1]->stop, 'l1 stops');

done_testing;
