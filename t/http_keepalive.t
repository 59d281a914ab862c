#!/usr/bin/perl

# One connection, many requests: keep-alive, pipelining, HTTP/1.0, and the
# limits and timeouts that end a connection (keepalive_requests,
# keepalive_timeout, client_header_timeout, send_timeout).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use Engram qw(wait_for);


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /health { health; }
        location = /discovery { discovery_health; }
    }

    server {
        listen 127.0.0.1:%%PORT_two%%;
        keepalive_requests 2;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_idle%%;
        keepalive_timeout 1s;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_nokeep%%;
        keepalive_timeout 0;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_slow%%;
        client_header_timeout 1s;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_send%% sndbuf=4k;
        send_timeout 1s;
        location / { status_page; }
    }
}
EOF

$t->start;

my $port = $t->port('http');


sub conn {
    my ($name) = @_;
    my $c = Engram::Conn->new($t->port($name // 'http'))
        or die "connect: $Engram::Conn::ERROR\n";
    return $c;
}


# what answered: "health", "discovery", or the status
sub what {
    my ($res) = @_;
    return 'none' unless $res;
    return 'health' if $res->{body} =~ /"status":"ok"/;
    return 'discovery' if $res->{body} =~ /"seeds_total"/;
    return $res->{status};
}


subtest 'several requests on one keep-alive connection are all answered' =>
sub {
    my $c = conn();

    for my $i (1 .. 5) {
        my $res = $c->request(GET => $i % 2 ? '/health' : '/discovery');
        is(what($res), $i % 2 ? 'health' : 'discovery', "request $i");
        is($res && $res->{headers}{connection}, 'keep-alive',
           "response $i says keep-alive");
    }

    ok(!$c->eof, 'the connection is still open');
};


subtest 'two requests in one write are both answered, in order' => sub {
    my $c = conn();

    $c->send(Engram::Conn::request_bytes(GET => '/discovery')
             . Engram::Conn::request_bytes(GET => '/health'));

    is(what($c->response), 'discovery', 'first the first');
    is(what($c->response), 'health', 'then the second');
    is(what($c->request(GET => '/health')), 'health',
       'and the connection serves a third request after them');
};


subtest 'three pipelined requests are answered in order, the last closes' =>
sub {
    my $c = conn();

    $c->send(Engram::Conn::request_bytes(GET => '/health')
             . Engram::Conn::request_bytes(GET => '/discovery')
             . Engram::Conn::request_bytes(GET => '/health',
                                           headers => ['Connection: close']));

    my @got = map { $c->response } 1 .. 3;
    is_deeply([map { what($_) } @got], [qw(health discovery health)],
              'health, discovery, health');
    is($got[2] && $got[2]{headers}{connection}, 'close',
       'the third says Connection: close');
    ok($c->wait_closed, 'and the server closes the connection');
};


subtest 'a pipelined request that arrives after a partial one is served' =>
sub {
    my $c = conn();
    my $two = Engram::Conn::request_bytes(GET => '/health')
              . Engram::Conn::request_bytes(GET => '/discovery');

    # the second request is cut in the middle of its request line
    my $cut = index($two, '/discovery') + 4;
    $c->send(substr $two, 0, $cut);
    is(what($c->response), 'health', 'the first is answered');

    $c->send(substr $two, $cut);
    is(what($c->response), 'discovery', 'the second, once complete');
};


subtest 'HTTP/1.0 closes the connection after the response' => sub {
    my $c = conn();
    my $res = $c->request(GET => '/health', version => '1.0');

    is(what($res), 'health', 'health answers');
    is($res->{headers}{connection}, 'close', 'Connection: close');
    ok($c->wait_closed, 'the server closes the connection');
};


subtest 'HTTP/1.0 with Connection: keep-alive keeps the connection open' =>
sub {
    my $c = conn();
    my @ka = (version => '1.0', headers => ['Connection: keep-alive']);

    my $res = $c->request(GET => '/health', @ka);
    is($res->{headers}{connection}, 'keep-alive',
       'the response says Connection: keep-alive');

    is(what($c->request(GET => '/discovery', @ka)), 'discovery',
       'a second request on it is answered');
};


subtest 'keepalive_requests 2 closes the connection after the second '
        . 'response' => sub {
    my $c = conn('two');

    my $first = $c->request(GET => '/health');
    is($first->{headers}{connection}, 'keep-alive',
       'the first response says keep-alive');

    my $second = $c->request(GET => '/health');
    is(what($second), 'health', 'the second request is answered');
    is($second->{headers}{connection}, 'close',
       'its response says Connection: close');
    ok($c->wait_closed, 'and the server closes the connection');
};


subtest 'keepalive_timeout 1s closes an idle connection after a second' =>
sub {
    my $c = conn('idle');

    is(what($c->request(GET => '/health')), 'health', 'a request answered');

    my $idle = time;
    ok($c->wait_closed(10), 'the server closes the idle connection');
    my $after = time - $idle;

    cmp_ok($after, '>=', 0.8, sprintf 'not before the second (%.2f s)',
           $after);
    cmp_ok($after, '<', 5, 'nor long after it');
};


subtest 'keepalive_timeout 0 closes the connection after each response' =>
sub {
    my $c = conn('nokeep');
    my $res = $c->request(GET => '/health');

    is($res->{headers}{connection}, 'close', 'Connection: close');
    ok($c->wait_closed, 'the server closes the connection');
};


subtest 'client_header_timeout 1s cuts off a client that sends half a '
        . 'request' => sub {
    my $c = conn('slow');

    $c->send("GET /health HTTP/1.1\r\nHost: loc");

    my $sent = time;
    ok($c->wait_closed(10), 'the server closes the connection');
    my $after = time - $sent;

    is($c->buffer, '', 'without an answer');
    cmp_ok($after, '>=', 0.8, sprintf 'after the timeout (%.2f s)', $after);
    cmp_ok($after, '<', 5, 'and not long after it');
    ok($t->wait_for_log(
           qr/\[info\] .*client timed out .*while reading client request/),
       'the error log says the client timed out while sending headers');
};


subtest 'client_header_timeout 1s closes a connection that sends nothing' =>
sub {
    my $c = conn('slow');
    ok($c->wait_closed(10), 'the server closes the connection');
    is($c->buffer, '', 'without an answer');
};


subtest 'send_timeout closes a connection whose client stops reading' => sub {
    my $c = Engram::Conn->new($t->port('send'), rcvbuf => 4096)
        or die "connect: $Engram::Conn::ERROR\n";

    # far more answers than the socket buffers hold, and none read
    my $n = 50;
    my $from = $t->log_offset;
    $c->send(Engram::Conn::request_bytes(GET => '/') x $n);

    ok($t->wait_for_log(qr/\[info\] .*client timed out.*while processing/,
                        from => $from),
       'the error log says the client timed out');

    ok($c->wait_closed(10), 'the connection is closed');
    my @got = Engram::parse_responses($c->buffer);
    cmp_ok(scalar @got, '<', $n,
           'before all the answers were sent (' . @got . " of $n)");
};


subtest 'the worker still serves after all these connections ended' => sub {
    is(what(conn()->request(GET => '/health')), 'health', 'health answers');
};


# A reload retires the workers gracefully: a keep-alive connection idle at
# that moment may have its next request on the way, so it is not cut at
# once; that request is answered, with "Connection: close". And a new
# connection made while an old worker lingers goes to a new worker: the
# old one left the listening socket's wakeups (epoll shares them between
# the processes holding it) when it stopped accepting.
for my $method ('epoll', 'poll') {
    subtest "an idle connection at reload gets one more answer ($method)"
    => sub {
        my $e = Engram->new;

        $e->write_config(<<"EOF");
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; use $method; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /health { health; }
    }
}
EOF
        $e->start(workers => 2);

        my $c = Engram::Conn->new($e->port('http'))
            or die "connect: $Engram::Conn::ERROR\n";
        is(what($c->request(GET => '/health')), 'health', 'a first answer');

        my @old = $e->active_worker_pids;
        ok($e->signal('HUP'), 'HUP');
        is(scalar $e->wait_for_workers(2, exclude => \@old), 2,
           'two new workers run');

        my $fresh = Engram::Conn->new($e->port('http'), timeout => 3)
            or die "connect: $Engram::Conn::ERROR\n";
        is(what($fresh->request(GET => '/health')), 'health',
           'a new connection is answered at once');

        my $res = $c->request(GET => '/health');
        is(what($res), 'health', 'the idle one gets its next answer');
        like($res->{headers}{connection} // '', qr/^close$/i,
             'with "Connection: close"');
        ok($c->wait_closed(5), 'and is closed after it');

        ok($e->wait_gone(@old), 'the old workers exit');
        ok($e->stop(timeout => 5), 'stops');
    };
}


# every event method must wait for the socket to drain, not only epoll
for my $method ('epoll', 'poll') {
    subtest "answers larger than the socket buffers are all sent ($method)"
    => sub {
        my $e = Engram->new;

        $e->write_config(<<"EOF");
%%TEST_GLOBALS%%
events { worker_connections 64; use $method; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%% sndbuf=4k;
        location / { status_page; }
    }
}
EOF
        $e->start;

        my $c = Engram::Conn->new($e->port('http'), rcvbuf => 4096)
            or die "connect: $Engram::Conn::ERROR\n";

        my $n = 50;
        $c->send(Engram::Conn::request_bytes(GET => '/') x $n);

        # a stalled response ends the reading: no need to wait for each
        my @got;
        while (@got < $n) {
            my $res = $c->response(timeout => 5) or last;
            push @got, $res;
        }

        is(scalar @got, $n, "all $n answers arrive");
        is(scalar(grep { $_->{status} == 200 } @got), $n, 'all of them 200');

        ok($e->stop(timeout => 5), 'stops');
    };
}


done_testing;
