#!/usr/bin/perl

# Cluster mode: the cluster process killed with signal 9, its master and
# workers left running. The master starts a new one, which resumes from
# the member table in shared memory: peers never suspect the node, its
# incarnation stays the same, and it still lists every member.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


my @ids = qw(r0 r1 r2);
my @n = map { Engram->new } @ids;

for my $i (0 .. $#n) {
    $n[$i]->write_cluster_config(id => $ids[$i], ip => '127.0.0.' . (41 + $i),
                                 seeds => [$n[0]]);
}

$_->start for @n;


sub members_of {
    my ($i) = @_;
    return cluster_members($n[$i]->port('http')) // {};
}


# whether node $i lists every node alive
sub lists_all_alive {
    my ($i) = @_;
    my $m = members_of($i);
    return !grep { ($m->{$_}{state} // '') ne 'alive' } @ids;
}


sub metric {
    my ($i, $name) = @_;
    return (metrics($n[$i]->port('http')) // {})->{$name};
}


for my $i (0 .. $#n) {
    ok(wait_for(sub { lists_all_alive($i) }), "$ids[$i] lists all alive")
        or BAIL_OUT('no cluster formed');
}

# the figures as the cluster processes last published them (once a second)
ok(wait_for(sub { defined metric($_, 'engram_swim_suspicions_total') }),
   "$ids[$_] publishes its figures") for 0 .. $#n;

my @suspicions_before = map { metric($_, 'engram_swim_suspicions_total') }
                        0 .. $#n;
my $incarnation = members_of(1)->{r1}{incarnation};
my $master = $n[1]->master_pid;
my @workers = $n[1]->active_worker_pids;
my $old = $n[1]->cluster_pid;
my $from = $n[1]->log_offset;

ok($old, "r1 has a cluster process ($old)");
ok(kill('KILL', $old), 'it is killed with signal 9');


subtest 'the master of r1 starts a new cluster process' => sub {
    my $new;
    ok(wait_for(sub {
           $new = $n[1]->cluster_pid;
           return $new && $new != $old;
       }), 'a new cluster process runs (' . ($new // 'none') . ')');

    ok($n[1]->wait_for_log(
           qr/\[error\] $master#0: cluster process $old exited on signal 9$/,
           from => $from),
       'the master logs how the old one died');
    is($n[1]->master_pid, $master, 'the master is the same');
    is_deeply([$n[1]->active_worker_pids], \@workers,
              'the workers are the same');
    ok($n[1]->wait_for_log(
           qr/\[notice\] \d+#0: resumed with 2 members from the member table/,
           from => $from),
       'the new one resumes with the two other members');
};


# Long enough for anyone to suspect r1 if it were silent: every node has
# probed (at least) several rounds more since the restart.
subtest 'the new cluster process gossips' => sub {
    my @probes = map { metric($_, 'engram_swim_probes_total') // 0 } 0 .. 2;

    for my $i (0 .. $#n) {
        ok(wait_for(sub {
               (metric($i, 'engram_swim_probes_total') // 0)
               >= $probes[$i] + 10
           }, 30), "$ids[$i] probed ten more times");
    }

    cmp_ok(metric(1, 'engram_gossip_packets_total{direction="in"}') // 0,
           '>', 0, 'r1 receives gossip');
};


subtest 'peers did not notice' => sub {
    for my $i (0 .. $#n) {
        is(metric($i, 'engram_swim_suspicions_total'), $suspicions_before[$i],
           "$ids[$i] suspected nobody ($suspicions_before[$i] before, as "
           . 'many after)');
        ok(lists_all_alive($i), "$ids[$i] lists all alive");
    }

    for my $i (0, 2) {
        is(members_of($i)->{r1}{incarnation}, $incarnation,
           "$ids[$i] has r1 at the same incarnation");
    }

    is(metric(1, 'engram_swim_refutations_total'), 0,
       'r1 never had to refute a suspicion');
};


subtest 'r1 lists every member as before, with the same incarnation' => sub {
    my $m = members_of(1);
    is_deeply([sort keys %$m], \@ids, 'r0, r1 and r2');
    ok(lists_all_alive(1), 'all alive');
    is($m->{r1}{incarnation}, $incarnation, 'its own incarnation is the same');
    ok($m->{r1}{self}, 'r1 is self');
};


ok($_->stop, 'stops') for @n;

done_testing;
