#!/usr/bin/perl

# Single-node and cluster mode. Without a "cluster {}" block a node opens
# no gossip socket and runs no cluster process; with one it does, and so
# it does with ENGRAM_CLUSTER_MODE=distributed and no block (its settings
# from ENGRAM_CLUSTER_*). ENGRAM_CLUSTER_MODE=single keeps a node with a
# block single.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Socket qw(inet_ntop AF_INET AF_INET6);
use Test::More;
use Engram qw(wait_for cluster_members metrics http_json);


# The local addresses ("ip:port") of the sockets of this protocol (udp,
# tcp) that the processes of an instance hold: their descriptors' inodes
# looked up in /proc/net. TCP sockets count only when they listen.
sub sockets_of {
    my ($t, $proto) = @_;

    my %inodes;

    for my $pid ($t->processes) {
        opendir my $dh, "/proc/$pid/fd" or next;
        for my $fd (readdir $dh) {
            my $link = readlink "/proc/$pid/fd/$fd" // next;
            $inodes{$1} = 1 if $link =~ /^socket:\[(\d+)\]$/;
        }
        closedir $dh;
    }

    my %addrs;

    for my $file ("/proc/net/$proto", "/proc/net/${proto}6") {
        open my $fh, '<', $file or next;
        <$fh>;

        while (my $line = <$fh>) {
            my @f = split ' ', $line;
            my ($hex, $port) = split /:/, $f[1];
            next unless $inodes{ $f[9] };
            next if $proto eq 'tcp' && $f[3] ne '0A';

            # the address in the kernel's byte order, 32 bits at a time
            my $bin = pack 'V*', map { hex } unpack '(A8)*', $hex;
            my $ip = inet_ntop(length $bin == 4 ? AF_INET : AF_INET6, $bin);

            $addrs{"$ip:" . hex $port} = 1;
        }

        close $fh;
    }

    return sort keys %addrs;
}


sub cluster_processes {
    my ($t) = @_;
    return grep { Engram::title($_) =~ /^engram: cluster process/ }
           $t->processes;
}


sub mode_of {
    my ($t) = @_;
    my $data = http_json($t->port('http'), '/cluster/members') // {};
    return $data->{mode} // '';
}


subtest 'without a cluster block: no gossip socket, no cluster process' =>
sub {
    my $t = Engram->new;
    $t->write_cluster_config(block => 0);
    $t->start;

    is_deeply([sockets_of($t, 'udp')], [], 'the node holds no UDP socket');
    is_deeply([sockets_of($t, 'tcp')], ['127.0.0.1:' . $t->port('http')],
              'its only listening TCP socket is the HTTP one');
    is_deeply([cluster_processes($t)], [], 'no cluster process runs');
    is(scalar $t->processes, 2, 'the master and its worker, nothing else');

    is(mode_of($t), 'single', 'the API says mode "single"');
    my $m = metrics($t->port('http')) // {};
    ok(!exists $m->{engram_swim_probes_total}, 'no gossip metrics');
    ok(!$t->log_lines(qr/cluster process/), 'the log names no cluster process');

    ok($t->stop, 'stops');
};


my $a = Engram->new;

subtest 'with a cluster block: the gossip sockets and a cluster process' =>
sub {
    $a->write_cluster_config(id => 'block', ip => '127.0.0.101');
    $a->start;

    is_deeply([sockets_of($a, 'udp')], [$a->gossip_addr],
              'the UDP socket is on the listen address');
    is_deeply([sockets_of($a, 'tcp')],
              [sort '127.0.0.1:' . $a->port('http'), $a->gossip_addr],
              'and a listening TCP socket too, beside the HTTP one');
    is(scalar cluster_processes($a), 1, 'one cluster process runs');
    is(mode_of($a), 'distributed', 'the API says mode "distributed"');
};


subtest 'ENGRAM_CLUSTER_MODE=distributed without a block: cluster mode' =>
sub {
    my $t = Engram->new;
    $t->{gossip_ip} = '127.0.0.102';
    $t->write_cluster_config(block => 0);

    $t->start(env => {
        ENGRAM_CLUSTER_MODE        => 'distributed',
        ENGRAM_CLUSTER_NODE_ID     => 'from-env',
        ENGRAM_CLUSTER_LISTEN_ADDR => $t->gossip_addr,
        ENGRAM_CLUSTER_SEEDS       => $a->gossip_addr,
        ENGRAM_CLUSTER_TAGS        => 'role=env, zone=z1',
    });

    is_deeply([sockets_of($t, 'udp')], [$t->gossip_addr],
              'the UDP socket is on ENGRAM_CLUSTER_LISTEN_ADDR');
    is(scalar cluster_processes($t), 1, 'one cluster process runs');
    is(mode_of($t), 'distributed', 'the API says mode "distributed"');

    ok(wait_for(sub {
           my $m = cluster_members($a->port('http')) // {};
           return ($m->{'from-env'}{state} // '') eq 'alive';
       }, 30), 'it joined its seed from ENGRAM_CLUSTER_SEEDS')
        or return;

    my $m = cluster_members($a->port('http')) // {};
    is($m->{'from-env'}{address}, $t->gossip_addr, 'at its address');
    is_deeply($m->{'from-env'}{tags}, { role => 'env', zone => 'z1' },
              'with the tags of ENGRAM_CLUSTER_TAGS');

    ok($t->stop, 'stops');
};


subtest 'ENGRAM_CLUSTER_MODE=single ignores the cluster block' => sub {
    my $t = Engram->new;
    $t->write_cluster_config(id => 'ignored', ip => '127.0.0.103');
    $t->start(env => { ENGRAM_CLUSTER_MODE => 'single' });

    is_deeply([sockets_of($t, 'udp')], [], 'the node holds no UDP socket');
    is_deeply([cluster_processes($t)], [], 'no cluster process runs');
    is(mode_of($t), 'single', 'the API says mode "single"');
    my $m = metrics($t->port('http')) // {};
    ok(!exists $m->{engram_swim_probes_total}, 'no gossip metrics');

    ok($t->stop, 'stops');
};


subtest 'an invalid ENGRAM_CLUSTER_MODE is refused' => sub {
    my $t = Engram->new;
    $t->write_cluster_config(block => 0);

    my $r = $t->run({ env => { ENGRAM_CLUSTER_MODE => 'both' } }, '-t');
    is($r->{exit}, 1, 'engram -t exits 1');
    like($r->{stderr}, qr/invalid value "both" of environment variable ENGRAM_CLUSTER_MODE/,
         'naming the variable and its value');
};


ok($a->stop, 'the node with the block stops');

done_testing;
