#!/usr/bin/perl

# Cluster mode across a binary upgrade (USR2): exactly one cluster process
# of the node runs at any moment, the new master's takes over from the old
# one's without the node leaving, and peers never suspect it, see it leave
# or see its incarnation change.  Three ways an operator ends an upgrade:
# WINCH then QUIT to the old master; QUIT to the old master at once; and a
# rollback (HUP to the old master, QUIT to the new one).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


# the pid in a file of the prefix, if it holds one
sub pid_in {
    my ($t, $file) = @_;
    my $text = $t->read_file($file) // '';
    return $text =~ /^(\d+)\n?$/ ? $1 : undef;
}


# the cluster processes of the node, under whichever master
sub cluster_pids {
    my ($t, @masters) = @_;
    return grep { Engram::title($_) =~ /^engram: cluster process/ }
           map { $t->children($_) } @masters;
}


sub formed {
    my ($tag, $base) = @_;

    my @ids = map { "$tag$_" } 0 .. 1;
    my @n = map { Engram->new } @ids;

    for my $i (0 .. 1) {
        $n[$i]->write_cluster_config(id => $ids[$i],
                                     ip => '127.0.0.' . ($base + $i),
                                     seeds => [$n[0]]);
    }

    $_->start for @n;

    for my $i (0 .. 1) {
        ok(wait_for(sub {
               my $m = cluster_members($n[$i]->port('http')) // {};
               return 2 == grep { ($m->{$_}{state} // '') eq 'alive' } @ids;
           }), "$ids[$i] lists both alive")
            or BAIL_OUT('no cluster formed');
    }

    ok(wait_for(sub {
           defined((metrics($n[1]->port('http')) // {})
                   ->{engram_swim_suspicions_total})
       }), "$ids[1] publishes its figures");

    return (\@ids, \@n);
}


# what the peer (node 1) sees of node 0, over a while: a list of states
sub watch {
    my ($n, $id, $seconds) = @_;

    my %seen;
    my $until = time + $seconds;

    while (time < $until) {
        my $m = cluster_members($n->port('http')) // {};
        $seen{$m->{$id}{state} // 'missing'}++;
        select undef, undef, undef, 0.1;
    }

    return \%seen;
}


# USR2: the new master runs, and still only the old cluster process
sub upgrade {
    my ($t) = @_;

    my $old = $t->master_pid;
    my $cluster = $t->cluster_pid;

    ok($t->signal('USR2', $old), "USR2 is sent to the master $old");

    my $new;
    ok(wait_for(sub {
           $new = pid_in($t, 'logs/engram.pid');
           return $new && $new != $old && $t->is_master($new);
       }), 'a new master runs');

    # the new master's cluster process exists but waits for the lock
    ok(wait_for(sub { cluster_pids($t, $new) == 1 }),
       'the new master starts its cluster process');
    select undef, undef, undef, 1.0;

    is(scalar(() = grep { Engram::proc_stat($_)->{state} ne 'Z' }
                       cluster_pids($t, $old)), 1,
       'the old cluster process still runs');
    is((cluster_pids($t, $old))[0], $cluster, 'and is the same one');

    return ($old, $new);
}


sub peer_saw_nothing {
    my ($ids, $n, $seen, $suspicions, $incarnation) = @_;

    is_deeply([sort keys %$seen], ['alive'],
              "$ids->[1] saw $ids->[0] alive all along")
        or diag(explain($seen));

    my $m = cluster_members($n->[1]->port('http')) // {};
    is($m->{$ids->[0]}{incarnation}, $incarnation,
       "$ids->[0]'s incarnation did not change");

    is((metrics($n->[1]->port('http')) // {})
           ->{engram_swim_suspicions_total}, $suspicions,
       "$ids->[1] suspected nobody");
}


subtest 'USR2, WINCH, QUIT: the new cluster process takes over' => sub {
    my ($ids, $n) = formed('ua', 61);
    my $t = $n->[0];

    my $inc = (cluster_members($n->[1]->port('http')) // {})
              ->{$ids->[0]}{incarnation};
    my $susp = (metrics($n->[1]->port('http')) // {})
               ->{engram_swim_suspicions_total};

    my ($old, $new) = upgrade($t);

    ok($t->signal('WINCH', $old), 'WINCH to the old master');

    ok(wait_for(sub { !cluster_pids($t, $old) }),
       'the old cluster process hands over and exits');
    ok(wait_for(sub { cluster_pids($t, $new) == 1 }),
       'the new one runs');

    my $seen = watch($n->[1], $ids->[0], 3);

    ok($t->signal('QUIT', $old), 'QUIT to the old master');
    ok(wait_for(sub { !Engram::pid_alive($old) }), 'the old master exits');

    my $after = watch($n->[1], $ids->[0], 4);
    $seen->{$_} += $after->{$_} for keys %$after;

    peer_saw_nothing($ids, $n, $seen, $susp, $inc);

    $_->stop for @$n;
};


subtest 'USR2, then QUIT to the old master at once' => sub {
    my ($ids, $n) = formed('ub', 64);
    my $t = $n->[0];

    my $inc = (cluster_members($n->[1]->port('http')) // {})
              ->{$ids->[0]}{incarnation};
    my $susp = (metrics($n->[1]->port('http')) // {})
               ->{engram_swim_suspicions_total};

    my ($old, $new) = upgrade($t);

    ok($t->signal('QUIT', $old), 'QUIT to the old master, without WINCH');
    ok(wait_for(sub { !Engram::pid_alive($old) }), 'the old master exits');
    ok(wait_for(sub { cluster_pids($t, $new) == 1 }),
       'the new cluster process runs');

    my $seen = watch($n->[1], $ids->[0], 5);
    peer_saw_nothing($ids, $n, $seen, $susp, $inc);

    ok(!$t->log_lines(qr/leaving the cluster|left the cluster/),
       'the node did not leave');

    $_->stop for @$n;
};


subtest 'rollback: HUP to the old master, QUIT to the new one' => sub {
    my ($ids, $n) = formed('uc', 67);
    my $t = $n->[0];

    my $inc = (cluster_members($n->[1]->port('http')) // {})
              ->{$ids->[0]}{incarnation};
    my $susp = (metrics($n->[1]->port('http')) // {})
               ->{engram_swim_suspicions_total};

    my ($old, $new) = upgrade($t);

    ok($t->signal('WINCH', $old), 'WINCH to the old master');
    ok(wait_for(sub { !cluster_pids($t, $old) && cluster_pids($t, $new) }),
       'the new cluster process took over');

    ok($t->signal('HUP', $old), 'HUP to the old master: it starts again');
    ok(wait_for(sub { cluster_pids($t, $old) == 1 }),
       'the old master has a cluster process again, waiting');

    ok($t->signal('QUIT', $new), 'QUIT to the new master');
    ok(wait_for(sub { !Engram::pid_alive($new) }), 'the new master exits');
    ok(wait_for(sub {
           my @c = cluster_pids($t, $old);
           return @c == 1 && $t->cluster_pid == $c[0];
       }), 'the old master\'s cluster process runs the node again');

    my $seen = watch($n->[1], $ids->[0], 5);
    peer_saw_nothing($ids, $n, $seen, $susp, $inc);

    ok(!$t->log_lines(qr/leaving the cluster|left the cluster/),
       'the node did not leave');

    $_->stop for @$n;
};


done_testing;
