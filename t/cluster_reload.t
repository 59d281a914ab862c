#!/usr/bin/perl

# Cluster mode and reload (HUP). A reload never makes a node leave and
# rejoin: its cluster process hands over to the next one, which resumes
# with the same incarnation, and peers suspect nobody. A seed added by the
# reload is joined; tags changed by the reload reach the peers with a
# higher incarnation.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


# a and b form a cluster; c runs alone, a cluster of its own, until a is
# given it as a seed
my %n = map { $_ => Engram->new } qw(a b c);
my %ip = (a => '127.0.0.61', b => '127.0.0.62', c => '127.0.0.63');

$n{a}->write_cluster_config(id => 'a', ip => $ip{a}, tags => 'role=x');
$n{b}->write_cluster_config(id => 'b', ip => $ip{b}, seeds => [$n{a}]);
$n{c}->write_cluster_config(id => 'c', ip => $ip{c});

$n{$_}->start for qw(a b c);


sub members_of {
    my ($name) = @_;
    return cluster_members($n{$name}->port('http')) // {};
}


# whether $name lists exactly these members, all alive
sub lists_alive {
    my ($name, @want) = @_;
    my $m = members_of($name);
    return join(',', sort keys %$m) eq join(',', sort @want)
           && !grep { $m->{$_}{state} ne 'alive' } @want;
}


sub metric {
    my ($name, $metric) = @_;
    return (metrics($n{$name}->port('http')) // {})->{$metric};
}


# the number of suspicions every node counted, once all have published
sub suspicions {
    my %s;

    wait_for(sub {
        %s = map { $_ => metric($_, 'engram_swim_suspicions_total') }
             qw(a b c);
        return !grep { !defined } values %s;
    });

    return \%s;
}


# Waits until every node has sent ten more probes than now: ample time for
# anyone to suspect a node that went quiet during a reload.
sub probe_rounds {
    my %probes = map { $_ => metric($_, 'engram_swim_probes_total') // 0 }
                 keys %n;

    for my $name (sort keys %n) {
        ok(wait_for(sub {
               (metric($name, 'engram_swim_probes_total') // 0)
               >= $probes{$name} + 10
           }, 30), "$name probed ten more times");
    }
}


# HUP with a new configuration; waits for the new cluster process
sub reload {
    my ($name) = @_;

    my $t = $n{$name};
    my $old = $t->cluster_pid;
    my @workers = $t->active_worker_pids;

    ok($t->signal('HUP'), "HUP to $name");
    ok(scalar $t->wait_for_workers(1, exclude => \@workers),
       "$name has a new worker");

    my $new;
    ok(wait_for(sub {
           $new = $t->cluster_pid;
           return $new && $new != $old;
       }), "$name has a new cluster process");
    ok($t->wait_gone($old), 'the old one has exited');
}


ok(wait_for(sub { lists_alive('a', 'a', 'b') && lists_alive('b', 'a', 'b') }),
   'a and b list each other alive')
    or BAIL_OUT('no cluster formed');
ok(lists_alive('c', 'c'), 'c lists itself alone');

is_deeply(suspicions(), { a => 0, b => 0, c => 0 },
          'no node has suspected anyone yet');


subtest 'HUP with c added to the seeds of a: a joins c' => sub {
    my $inc_a = members_of('a')->{a}{incarnation};
    my $inc_c = members_of('c')->{c}{incarnation};

    $n{a}->write_cluster_config(id => 'a', tags => 'role=x',
                                seeds => [$n{c}]);
    reload('a');

    for my $name (qw(a b c)) {
        ok(wait_for(sub { lists_alive($name, 'a', 'b', 'c') }),
           "$name lists a, b and c alive")
            or return diag(explain(members_of($name)));
    }

    probe_rounds();

    is_deeply(suspicions(), { a => 0, b => 0, c => 0 },
              'no node suspected anyone during the reload');

    for my $name (qw(a b c)) {
        is(members_of($name)->{a}{incarnation}, $inc_a,
           "$name has a at the incarnation it had before the reload");
    }

    is(members_of('b')->{c}{incarnation}, $inc_c,
       'b has c at the incarnation c started with');
    is(metric('a', 'engram_swim_refutations_total'), 0,
       'a never refuted a suspicion');
};


subtest 'HUP with new tags on b: its incarnation rises, peers see them' =>
sub {
    my $inc_b = members_of('b')->{b}{incarnation};

    $n{b}->write_cluster_config(id => 'b', seeds => [$n{a}],
                                tags => 'role=y rack=r2');
    reload('b');

    for my $name (qw(a b c)) {
        ok(wait_for(sub {
               my $b = members_of($name)->{b} // {};
               return ($b->{tags}{rack} // '') eq 'r2';
           }), "$name sees the new tags of b")
            or return;

        my $b = members_of($name)->{b} // {};
        is_deeply($b->{tags}, { role => 'y', rack => 'r2' },
                  "$name: b has role=y rack=r2");
        cmp_ok($b->{incarnation} // 0, '>', $inc_b,
               "$name: b has a higher incarnation");
        is($b->{state}, 'alive', "$name: b is alive");
    }

    probe_rounds();

    is_deeply(suspicions(), { a => 0, b => 0, c => 0 },
              'no node suspected anyone during the reload');
};


subtest 'HUP with the same configuration changes nothing peers see' => sub {
    my %inc = map { $_ => members_of('a')->{$_}{incarnation} } qw(a b c);

    reload('c');
    probe_rounds();

    for my $name (qw(a b c)) {
        ok(lists_alive($name, 'a', 'b', 'c'), "$name lists all alive");
        is_deeply({ map { $_ => members_of($name)->{$_}{incarnation} }
                    qw(a b c) }, \%inc,
                  "$name has every node at the same incarnation");
    }

    is_deeply(suspicions(), { a => 0, b => 0, c => 0 },
              'no node suspected anyone');
};


ok($n{$_}->stop, "$_ stops") for qw(a b c);

done_testing;
