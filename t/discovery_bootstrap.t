#!/usr/bin/perl

# Safe formation: five nodes with "bootstrap_expect 5", each seeded with
# all five, started at the same moment, form one cluster, never two: the
# node with the lowest id forms it once all five have told their ids, and
# the others join it.  With fewer nodes than expected, nobody forms.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members);


sub alive_ids {
    my ($t) = @_;
    my $m = cluster_members($t->port('http')) // {};
    return join ' ', sort grep { ($m->{$_}{state} // '') eq 'alive' }
                          keys %$m;
}


sub nodes {
    my ($tag, $n, $base, $expect) = @_;

    my @t = map { Engram->new } 1 .. $n;

    for my $i (0 .. $#t) {
        $t[$i]->{gossip_ip} = '127.0.0.' . ($base + $i);
    }

    for my $i (0 .. $#t) {
        # ids in the reverse order of the addresses: the lowest id is not
        # simply the first seed
        $t[$i]->write_cluster_config(id => "$tag" . ($n - $i),
                                     ip => '127.0.0.' . ($base + $i),
                                     seeds => [@t],
                                     cluster => "bootstrap_expect $expect;");
    }

    return @t;
}


subtest 'five nodes started together form one cluster' => sub {
    my @t = nodes('b', 5, 161, 5);
    my $all = join ' ', map { "b$_" } 1 .. 5;

    # started as close together as the harness can
    $_->start for @t;

    for my $t (@t) {
        ok(wait_for(sub { alive_ids($t) eq $all }, 30),
           'a node lists all five alive')
            or diag(alive_ids($t));
    }

    my @formed = grep { $_->log_lines(qr/forming a new cluster/) } @t;
    is(scalar @formed, 1, 'exactly one node formed the cluster');
    like(($formed[0]->log_lines(qr/forming a new cluster/))[0] // '',
         qr/lowest id/, 'the one with the lowest id');
    is($formed[0], $t[4], 'b1, the lowest id, at the last address');

    my @joined = grep { $_->log_lines(qr/joined the cluster through/) } @t;
    is(scalar @joined, 4, 'the four others joined it');

    $_->stop for @t;
};


subtest 'with fewer nodes than expected, nobody forms' => sub {
    my @t = nodes('f', 2, 171, 3);

    $_->start for @t;

    for my $t (@t) {
        ok($t->wait_for_log(qr/is forming a cluster too/),
           'each hears the other is forming too');
    }

    sleep 4;

    is(scalar(grep { $_->log_lines(qr/forming a new cluster/) } @t), 0,
       'nobody formed a cluster');
    is(alive_ids($_), ($_ == $t[0] ? 'f2' : 'f1'), 'each is alone')
        for @t;

    $_->stop for @t;
};


done_testing;
