#!/usr/bin/perl

# worker_connections as a limit: a worker serves as many connections at
# once as it has slots (its listener and channel take some), says so in the error log
# when they are all taken, and serves again once clients go away.  Slots
# are handed out lazily, so the test also checks that a slot used, freed
# and used again works like a fresh one.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for http_json);


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 16; }
http {
    access_log off;
    keepalive_timeout 60s;

    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /health { health; }
        location = /metrics { metrics; }
    }
}
EOF

$t->start;

my $port = $t->port('http');

$t->allow_log(qr/worker_connections are not enough/);


subtest 'slots used, freed and used again' => sub {
    for my $round (1 .. 3) {
        my @c = map { Engram::Conn->new($port) } 1 .. 5;

        my $ok = grep {
            my $res = $_->request(GET => '/health');
            $res && $res->{status} == 200;
        } @c;

        is($ok, 5, "round $round: five keep-alive connections answered");
        $_->close for @c;
    }
};


subtest 'idle keep-alive connections make room for new clients' => sub {
    my $from = $t->log_offset;

    # twenty clients in turn, each left idle after its answer: more than
    # the sixteen slots, so the worker closes the oldest idle ones
    my @held = map {
        my $c = Engram::Conn->new($port, timeout => 5);
        my $res = $c->request(GET => '/health');
        [$c, $res && $res->{status} == 200];
    } 1 .. 20;

    is(scalar(grep { $_->[1] } @held), 20, 'all twenty are answered');

    ok($t->wait_for_log(qr/16 worker_connections are not enough, reusing/,
                        from => $from),
       'the worker says it reuses connections');

    ok($held[0][0]->wait_closed(5), 'the first idle one was closed for it');

    $_->[0]->close for @held;
};


# connections the worker is reading a request from
sub reading {
    my ($status, $body) = Engram::http_get($port, '/metrics');
    my ($n) = ($body // '') =~ /^engram_http_connections\{state="reading"\} (\d+)/m;
    return $n // 0;
}


subtest 'with every slot busy, a new client is refused, then served' =>
sub {
    my $from = $t->log_offset;

    # half a request each, read by the worker before the next comes:
    # reading, not idle, so nothing can be reused
    my @busy;

    for my $n (1 .. 20) {
        my $c = Engram::Conn->new($port, timeout => 5) or last;
        $c->send("GET /health HTTP/1.1\r\nHost: x\r\n");
        push @busy, $c;

        last if $t->log_lines(qr/worker_connections are not enough$/,
                              from => $from);

        wait_for(sub { reading() >= $n }, 2);
    }

    ok($t->wait_for_log(qr/16 worker_connections are not enough$/,
                        from => $from),
       'the worker says it has no slot, and closes the newcomer');

    $_->close for @busy;

    my $ok = wait_for(sub {
        my ($data) = http_json($port, '/health');
        return $data && $data->{status} eq 'ok';
    });
    ok($ok, 'once the clients are gone, new ones are served again');
};


done_testing;
