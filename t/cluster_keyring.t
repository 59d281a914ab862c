#!/usr/bin/perl

# Cluster mode with a keyring (AES-256-GCM): nodes that share a key form a
# cluster; a node with another key, or with none, cannot join it, and the
# node it asks counts what it dropped, by reason, in
# engram_gossip_dropped_total.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members metrics);


# two keys, 32 bytes each in base64
my $key1 = "L/D5TGQAAhAtR/D9qj5LoUO/LKtSotjksf0gHtQmJsE=\n";
my $key2 = "q1Zxkq9n4m0cE1b2vYyJm0Xz7S0lqg2yXxq9hQm7kVA=\n";

my %n = map { $_ => Engram->new } qw(k0 k1 other plain);

$n{$_}->write_file('conf/gossip.keys', $key1) for qw(k0 k1);
$n{other}->write_file('conf/gossip.keys', $key2);

$n{k0}->write_cluster_config(id => 'k0', ip => '127.0.0.71',
                             cluster => 'keyring gossip.keys;');
$n{k1}->write_cluster_config(id => 'k1', ip => '127.0.0.72',
                             seeds => [$n{k0}],
                             cluster => 'keyring gossip.keys;');
$n{other}->write_cluster_config(id => 'other', ip => '127.0.0.73',
                                seeds => [$n{k0}],
                                cluster => 'keyring gossip.keys;');
$n{plain}->write_cluster_config(id => 'plain', ip => '127.0.0.74',
                                seeds => [$n{k0}]);

$n{$_}->start for qw(k0 k1);


sub ids_of {
    my ($name) = @_;
    return join ',', sort keys %{ cluster_members($n{$name}->port('http'))
                                  // {} };
}


sub dropped {
    my ($name, $reason) = @_;
    my $m = metrics($n{$name}->port('http')) // {};
    return $m->{"engram_gossip_dropped_total{reason=\"$reason\"}"};
}


subtest 'nodes with the same key form a cluster' => sub {
    ok(wait_for(sub { ids_of('k0') eq 'k0,k1' && ids_of('k1') eq 'k0,k1' }),
       'k0 and k1 list each other');
    ok(wait_for(sub { defined dropped('k0', 'decrypt') }),
       'k0 publishes its drop counters');
    is(dropped('k0', 'decrypt'), 0, 'k0 dropped nothing it could not decrypt');
    is(dropped('k0', 'plaintext'), 0, 'k0 dropped no plaintext');
};


subtest 'a node with another key cannot join' => sub {
    $n{other}->start;

    ok(wait_for(sub { (dropped('k0', 'decrypt') // 0) > 0 }),
       'k0 counts engram_gossip_dropped_total{reason="decrypt"}');
    ok($n{other}->wait_for_log(
           qr/\[warn\] \d+#0: join through \Q${\ $n{k0}->gossip_addr }\E failed/),
       'the join of "other" through k0 failed');
    ok($n{other}->wait_for_log(qr/\[warn\] \d+#0: no peer answered/),
       '"other" found no seed to answer');

    is(ids_of('other'), 'other', '"other" lists only itself');
    is(ids_of('k0'), 'k0,k1', 'k0 does not list "other"');
    is(ids_of('k1'), 'k0,k1', 'k1 does not list "other"');
};


subtest 'a node without a keyring cannot join' => sub {
    $n{plain}->start;

    ok(wait_for(sub { (dropped('k0', 'plaintext') // 0) > 0 }),
       'k0 counts engram_gossip_dropped_total{reason="plaintext"}');
    ok($n{plain}->wait_for_log(
           qr/\[warn\] \d+#0: join through \Q${\ $n{k0}->gossip_addr }\E failed/),
       'the join of "plain" through k0 failed');

    is(ids_of('plain'), 'plain', '"plain" lists only itself');
    is(ids_of('k0'), 'k0,k1', 'k0 does not list "plain"');
};


subtest 'the cluster of k0 and k1 is untroubled' => sub {
    my $m = cluster_members($n{k1}->port('http')) // {};
    is($m->{k0}{state}, 'alive', 'k1 lists k0 alive');
    is($m->{k1}{state}, 'alive', 'k1 lists itself alive');
    is((metrics($n{k0}->port('http')) // {})->{engram_swim_suspicions_total},
       0, 'k0 suspected nobody');
};


ok($n{$_}->stop, "$_ stops") for qw(k0 k1 other plain);

done_testing;
