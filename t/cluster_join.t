#!/usr/bin/perl

# Cluster mode: three nodes, each on a loopback address of its own, find
# each other through their seeds, and each one's API lists all three alive
# with their addresses and tags.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


my @ids = qw(n0 n1 n2);
my @n = map { Engram->new } @ids;

# every node has the same seed list, itself included, as in a deployment
for my $i (0 .. $#n) {
    $n[$i]->write_cluster_config(id => $ids[$i], ip => '127.0.0.' . (21 + $i),
                                 seeds => \@n, tags => "role=r$i zone=z");
}

$_->start for @n;


# the members node $i lists, by id (an empty hash while it answers none)
sub members_of {
    my ($i, $query) = @_;
    return cluster_members($n[$i]->port('http'), $query) // {};
}


# whether node $i lists exactly these ids, each in this state
sub lists {
    my ($i, $state, @want) = @_;

    my $m = members_of($i);

    return 0 unless join(',', sort keys %$m) eq join(',', sort @want);
    return !grep { ($m->{$_}{state} // '') ne $state } @want;
}


subtest 'each node lists all three nodes alive' => sub {
    for my $i (0 .. $#n) {
        ok(wait_for(sub { lists($i, 'alive', @ids) }),
           "$ids[$i] lists n0, n1 and n2 alive")
            or diag(explain(members_of($i)));
    }
};


subtest 'each member has its gossip address and its tags' => sub {
    for my $i (0 .. $#n) {
        my $m = members_of($i);

        for my $j (0 .. $#n) {
            my $e = $m->{ $ids[$j] } // {};
            is($e->{address}, $n[$j]->gossip_addr,
               "$ids[$i] has $ids[$j] at " . $n[$j]->gossip_addr);
            is_deeply($e->{tags}, { role => "r$j", zone => 'z' },
                      "$ids[$i] has the tags of $ids[$j]");
        }
    }
};


subtest 'each node is "self" in its own list only' => sub {
    for my $i (0 .. $#n) {
        my $m = members_of($i);
        my @self = grep { $m->{$_}{self} } keys %$m;
        is_deeply(\@self, [$ids[$i]], "$ids[$i] is self on $ids[$i]");
    }
};


subtest 'the list says mode "distributed", the cluster name and counts' =>
sub {
    for my $i (0 .. $#n) {
        my $data = Engram::http_json($n[$i]->port('http'),
                                     '/cluster/members') // {};

        is($data->{mode}, 'distributed', "$ids[$i]: mode distributed");
        is($data->{cluster}, 'engram', "$ids[$i]: the default cluster name");
        is($data->{self}, $ids[$i], "$ids[$i]: self is $ids[$i]");
        is_deeply($data->{counts},
                  { alive => 3, suspect => 0, dead => 0, left => 0,
                    total => 3 },
                  "$ids[$i]: counts 3 alive of 3");
    }
};


subtest 'the filters see the other nodes\' tags' => sub {
    is_deeply([sort keys %{ members_of(0, 'tag=role=r2') }], ['n2'],
              '?tag=role=r2 on n0 is n2');
    is_deeply([sort keys %{ members_of(1, 'tag=zone') }], \@ids,
              '?tag=zone on n1 is all three');
    is_deeply([sort keys %{ members_of(2, 'state=alive') }], \@ids,
              '?state=alive on n2 is all three');
    is_deeply(members_of(2, 'state=suspect,dead,left'), {},
              '?state=suspect,dead,left on n2 is none');
};


subtest 'metrics count three alive members on every node' => sub {
    for my $i (0 .. $#n) {
        my $port = $n[$i]->port('http');

        # the cluster process publishes its figures once a second
        ok(wait_for(sub {
               my $m = metrics($port) // {};
               return ($m->{'engram_members{state="alive"}'} // -1) == 3;
           }), "$ids[$i]: engram_members{state=\"alive\"} 3");

        my $m = metrics($port) // {};
        cmp_ok($m->{'engram_gossip_packets_total{direction="in"}'} // 0,
               '>', 0, "$ids[$i]: gossip packets came in");
        cmp_ok($m->{'engram_gossip_packets_total{direction="out"}'} // 0,
               '>', 0, "$ids[$i]: gossip packets went out");
        cmp_ok($m->{engram_swim_probes_total} // 0, '>', 0,
               "$ids[$i]: it probes");
    }
};


subtest 'every node runs one cluster process' => sub {
    for my $i (0 .. $#n) {
        my $master = $n[$i]->master_pid;
        my @cp = grep { Engram::title($_) =~ /^engram: cluster process/ }
                 $n[$i]->children($master);
        is(scalar @cp, 1, "$ids[$i] has one cluster process");
    }
};


subtest 'the nodes that joined another one log it' => sub {
    my $joined = grep {
        $_->log_lines(qr/\[notice\] \d+#0: joined the cluster through /)
    } @n;
    cmp_ok($joined, '>=', 2, 'at least two nodes logged their join');
};


for my $t (@n) {
    ok($t->stop, 'the node stops');
}

done_testing;
