#!/usr/bin/perl

# Cluster mode: a node whose every process is killed with signal 9 (the
# crash of its host) is found dead by the others, who stay alive to each
# other.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


my @ids = qw(c0 c1 c2);
my @n = map { Engram->new } @ids;

for my $i (0 .. $#n) {
    $n[$i]->write_cluster_config(id => $ids[$i], ip => '127.0.0.' . (31 + $i),
                                 seeds => [$n[0]]);
}

$_->start for @n;


# the state node $i gives member $id, '' if it does not list it
sub state_of {
    my ($i, $id) = @_;
    my $m = cluster_members($n[$i]->port('http')) // {};
    return $m->{$id}{state} // '';
}


sub all_alive {
    for my $i (0 .. $#n) {
        return 0 if grep { state_of($i, $_) ne 'alive' } @ids;
    }
    return 1;
}


ok(wait_for(\&all_alive), 'the three nodes list each other alive')
    or BAIL_OUT('no cluster formed');


subtest 'c2 killed with signal 9, master, workers and cluster process' =>
sub {
    my @pids = $n[2]->processes;
    cmp_ok(scalar @pids, '>=', 3, "c2 has its processes (@pids)");
    ok($n[2]->kill9, 'they are all gone');
};


subtest 'c0 and c1 find c2 dead' => sub {
    for my $i (0, 1) {
        my %seen;

        ok(wait_for(sub {
               my $s = state_of($i, 'c2');
               $seen{$s}++;
               return $s eq 'dead';
           }, 30), "$ids[$i] lists c2 dead")
            or diag("$ids[$i] saw c2: " . join(', ', sort keys %seen));
        ok(!$seen{left}, "$ids[$i] never saw c2 leave");
    }
};


subtest 'c0 and c1 still list each other alive' => sub {
    is(state_of(0, 'c1'), 'alive', 'c0 lists c1 alive');
    is(state_of(1, 'c0'), 'alive', 'c1 lists c0 alive');
    is(state_of(0, 'c0'), 'alive', 'c0 lists itself alive');
    is(state_of(1, 'c1'), 'alive', 'c1 lists itself alive');
};


subtest 'the survivors count the suspicion and the dead member' => sub {
    my ($suspected, $failed) = (0, 0);

    for my $i (0, 1) {
        my $port = $n[$i]->port('http');

        ok(wait_for(sub {
               my $m = metrics($port) // {};
               return ($m->{'engram_members{state="dead"}'} // -1) == 1
                      && ($m->{'engram_members{state="alive"}'} // -1) == 2;
           }), "$ids[$i]: engram_members dead 1, alive 2");

        my $m = metrics($port) // {};
        $suspected += $m->{engram_swim_suspicions_total} // 0;
        $failed += $m->{engram_swim_probe_failures_total} // 0;
    }

    cmp_ok($failed, '>', 0, 'probes of c2 failed');

    # a member is suspected before it is declared dead, by one node at
    # least (the other may learn the news from it)
    cmp_ok($suspected, '>', 0, 'c2 was suspected first');
};


subtest 'a survivor logs the failure' => sub {
    ok((grep { $_->wait_for_log(qr/\[warn\] \d+#0: member "c2" \(\S+\) failed/,
                                timeout => 1) } @n[0, 1]),
       'the warning "member "c2" (...) failed" is in a log');
};


ok($n[0]->stop, 'c0 stops');
ok($n[1]->stop, 'c1 stops');

done_testing;
