#!/usr/bin/perl

# Discovery by static seeds, through the chain: the health endpoint and
# the metrics show what the method found; a seed that does not resolve is
# reported and retried while the others are joined; a node that finds
# nobody stays a cluster of one and keeps looking, and joins as soon as a
# seed comes up; a HUP with new seeds applies them without leaving; a
# peer found later that is no member (a cluster formed apart) is merged.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use Test::More;
use Engram qw(wait_for cluster_members metrics);


# a UDP port on 127.0.0.1 where nothing answers: a resolver that is down
sub dead_resolver {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'udp') or die "udp: $!";
    my $port = $s->sockport;
    close $s;
    return "127.0.0.1:$port";
}


sub alive_ids {
    my ($t) = @_;
    my $m = cluster_members($t->port('http')) // {};
    return [sort grep { ($m->{$_}{state} // '') eq 'alive' } keys %$m];
}


subtest 'seeds found, joined, and shown by the health endpoint' => sub {
    my ($a, $b) = (Engram->new, Engram->new);
    my $resolver = dead_resolver();

    $a->write_cluster_config(id => 'sa', ip => '127.0.0.151');
    $b->write_cluster_config(id => 'sb', ip => '127.0.0.152',
                             seeds => [$a, 'nowhere.invalid:7946'],
                             cluster => "resolver $resolver timeout=300ms;");

    $a->start;
    $b->start;

    ok(wait_for(sub { "@{ alive_ids($b) }" eq 'sa sb' }),
       'b joined a, the seed that is an address');

    my $h;
    ok(wait_for(sub {
           $h = $b->discovery_health;
           return $h && defined $h->{method};
       }), 'the health endpoint answers');

    ok($h->{enabled}, 'discovery is enabled');
    is($h->{method}, 'static', 'static seeds found the peers');
    is($h->{seeds_total}, 1, 'one peer found (a name did not resolve)');
    ok(wait_for(sub { ($b->discovery_health // {})->{seeds_reachable} == 1 }),
       'and it is reachable');
    ok($h->{last_discovery} > time - 60, 'last_discovery is a recent time');
    ok($h->{next_refresh} >= $h->{last_discovery}, 'next_refresh after it');

    my ($static) = grep { $_->{name} eq 'static' } @{ $h->{methods} };
    is($static->{result}, 'found', 'the method found peers');
    is($static->{peers}, 1, 'one');
    ok($static->{attempts} >= 1, 'after at least one attempt');

    my $m = metrics($b->port('http')) // {};
    ok(($m->{'engram_discovery_attempts_total{method="static"}'} // 0) >= 1,
       'engram_discovery_attempts_total{method="static"} counts');
    ok(($m->{'engram_discovery_successes_total{method="static"}'} // 0) >= 1,
       'engram_discovery_successes_total{method="static"} counts');
    ok(defined $m->{'engram_discovery_duration_seconds_count'
                    . '{method="static"}'},
       'engram_discovery_duration_seconds{method="static"} is a histogram');
    is($m->{engram_peers_discovered}, 1, 'engram_peers_discovered is 1');

    $_->stop for $a, $b;
};


subtest 'nothing found: a cluster of one that keeps looking' => sub {
    my ($a, $b) = (Engram->new, Engram->new);
    my $resolver = dead_resolver();

    $a->write_cluster_config(id => 'la', ip => '127.0.0.153');
    $b->write_cluster_config(id => 'lb', ip => '127.0.0.154',
                             seeds => ['nowhere.invalid:7946'],
                             cluster => "resolver $resolver timeout=300ms;");
    $b->start;

    my $h;
    ok(wait_for(sub {
           $h = $b->discovery_health;
           my ($s) = grep { $_->{name} eq 'static' } @{ $h->{methods} // [] };
           return $s && $s->{result} eq 'error' && $s->{attempts} >= 2;
       }), 'the seed that does not resolve is an error, tried again')
        or diag(explain($h));

    my ($s) = grep { $_->{name} eq 'static' } @{ $h->{methods} };
    like($s->{error}, qr/nowhere\.invalid/, 'the error names the seed');
    is($h->{method}, undef, 'no method found anyone');
    is_deeply(alive_ids($b), ['lb'], 'b is a cluster of one');
    is((metrics($b->port('http')) // {})->{engram_peers_discovered}, 0,
       'engram_peers_discovered is 0');

    # a new seed by HUP: found at once, without b ever leaving
    $a->start;
    my $inc = (cluster_members($b->port('http')) // {})->{lb}{incarnation};

    $b->write_cluster_config(id => 'lb', ip => '127.0.0.154',
                             seeds => ['nowhere.invalid:7946', $a],
                             cluster => "resolver $resolver timeout=300ms;");
    ok($b->signal('HUP'), 'HUP with the seed a');

    ok(wait_for(sub { "@{ alive_ids($b) }" eq 'la lb' }),
       'b joins a after the reload');
    is((cluster_members($b->port('http')) // {})->{lb}{incarnation}, $inc,
       'with the same incarnation: it never left');

    $_->stop for $a, $b;
};


subtest 'clusters formed apart merge when discovery finds the other' =>
sub {
    my ($a, $b, $c) = (Engram->new, Engram->new, Engram->new);

    $a->write_cluster_config(id => 'ma', ip => '127.0.0.155');
    $b->write_cluster_config(id => 'mb', ip => '127.0.0.156', seeds => [$a]);
    $c->write_cluster_config(id => 'mc', ip => '127.0.0.157');

    $_->start for $a, $b, $c;

    ok(wait_for(sub { "@{ alive_ids($a) }" eq 'ma mb' }),
       'a and b form one cluster');
    is_deeply(alive_ids($c), ['mc'], 'c is alone');

    # c learns of b only now, by a reload; it is joined (c was not
    # "joined" to anyone, so this is a plain join), and a refresh of a's
    # discovery with c as a seed merges from the other side too
    $a->write_cluster_config(id => 'ma', ip => '127.0.0.155', seeds => [$c],
                             cluster => 'discovery_refresh 1s;');
    ok($a->signal('HUP'), 'a is told of c');

    ok(wait_for(sub { "@{ alive_ids($c) }" eq 'ma mb mc' }),
       'the clusters merged: c lists all three');
    ok(wait_for(sub { "@{ alive_ids($b) }" eq 'ma mb mc' }),
       'and so does b');

    $_->stop for $a, $b, $c;
};


subtest 'the resolver directive refuses what it cannot use' => sub {
    my $t = Engram->new;

    for my $case (['127.0.0.1:5353 timeout=2s valid=10s', undef],
                  ['127.0.0.1 valid=0', qr/invalid value "valid=0"/],
                  ['127.0.0.1 timeout=x', qr/invalid value "timeout=x"/],
                  ['ns.example.com', qr/invalid resolver address/],
                  ['timeout=1s', qr/needs at least one address/])
    {
        my ($args, $error) = @$case;

        $t->write_cluster_config(id => 'r', cluster => "resolver $args;");
        my $r = $t->run('-t');

        if ($error) {
            isnt($r->{exit}, 0, "\"resolver $args\" is refused");
            like($r->{stderr}, qr/$error.* in \S+engram\.conf:\d+/,
                 'naming the file and line');
        } else {
            is($r->{exit}, 0, "\"resolver $args\" is accepted")
                or diag($r->{stderr});
        }
    }
};


done_testing;
