#!/usr/bin/perl

# The HTTP/1.1 server on the wire: the headers of a normal answer, the
# error statuses for requests it refuses (with the limits of
# large_client_header_buffers), requests that arrive in pieces, and how a
# path is decoded before it picks a location.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::Local qw(timegm);
use Engram qw(http_request);


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    client_header_buffer_size 128;
    large_client_header_buffers 2 1k;

    server {
        listen 127.0.0.1:%%PORT_http%%;

        location = /health { health; }
        location = /discovery { discovery_health; }
        location / { }
    }

    server {
        listen 127.0.0.1:%%PORT_quiet%%;
        server_tokens off;

        location = /health { health; }
    }
}
EOF

$t->start;

my $port = $t->port('http');

my ($version) = $t->run({ bare => 1 }, '-v')->{stderr}
                =~ m{engram version: engram/(\S+)};


# one request on a connection of its own; the response, or undef
sub ask {
    my ($bytes, %opts) = @_;
    my ($res) = http_request($opts{port} // $port, $bytes, %opts);
    return $res;
}


sub get {
    my ($path, @headers) = @_;
    return ask(Engram::Conn::request_bytes(GET => $path,
                   headers => [@headers, 'Connection: close']));
}


# which location answered: "health", "discovery", or the status code
sub handler_of {
    my ($res) = @_;

    return 'none' unless $res;
    return 'health' if $res->{status} == 200
                       && $res->{body} =~ /"status":"ok"/;
    return 'discovery' if $res->{status} == 200
                          && $res->{body} =~ /"seeds_total"/;
    return $res->{status};
}


subtest 'GET /health answers 200 with a JSON body of the exact length' =>
sub {
    my $c = Engram::Conn->new($port);
    my $res = $c->request(GET => '/health',
                          headers => ['Connection: close']);

    is($res->{status}, 200, 'status 200');
    is($res->{reason}, 'OK', 'reason "OK"');
    is($res->{protocol}, 'HTTP/1.1', 'the answer is HTTP/1.1');
    is($res->{headers}{'content-type'}, 'application/json',
       'Content-Type: application/json');
    is($res->{headers}{'content-length'}, length $res->{body},
       'Content-Length is the length of the body');
    like($res->{body}, qr/^\{"status":"ok","version":"\Q$version\E",
                          "pid":\d+,"uptime_seconds":\d+\}\n$/x,
         'the body is the health document');

    ok($c->wait_closed, 'the server closes after "Connection: close"');
    is($c->buffer, '', 'and sent nothing after the body');
};


subtest 'the Date header is an RFC 7231 date close to now' => sub {
    my $res = get('/health');
    my $date = $res->{headers}{date} // '';

    my %mon;
    @mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = (0 .. 11);

    my @f = $date =~ /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ ](\d\d)[ ](\w{3})
                      [ ](\d{4})[ ](\d\d):(\d\d):(\d\d)[ ]GMT$/x;
    ok(@f && exists $mon{ $f[1] }, "\"$date\" is in IMF-fixdate form")
        or return;

    my $when = timegm($f[5], $f[4], $f[3], $f[0], $mon{ $f[1] }, $f[2]);
    cmp_ok(abs($when - time), '<=', 5, 'and within 5 s of the clock');

    my @days = qw(Thu Fri Sat Sun Mon Tue Wed);   # 1970-01-01 was a Thursday
    is(substr($date, 0, 3), $days[int($when / 86400) % 7],
       'the day of the week matches the date');
};


subtest 'the Server header names the version' => sub {
    ok(defined $version, "engram -v says version $version");
    is(get('/health')->{headers}{server}, "engram/$version",
       "Server: engram/$version");
};


subtest 'with server_tokens off the Server header is just "engram"' => sub {
    my $res = ask("GET /health HTTP/1.0\r\n\r\n", port => $t->port('quiet'));
    is($res->{status}, 200, 'status 200');
    is($res->{headers}{server}, 'engram', 'Server: engram');
};


subtest 'an HTTP/1.1 response says Connection: keep-alive' => sub {
    my $c = Engram::Conn->new($port);
    my $res = $c->request(GET => '/health');

    is($res->{headers}{connection}, 'keep-alive', 'Connection: keep-alive');
    ok(!$c->wait_closed(0.3), 'and the connection stays open');
};


subtest 'Connection: close in the request gets Connection: close' => sub {
    is(get('/health')->{headers}{connection}, 'close', 'Connection: close');
};


subtest 'HEAD /health has the headers of GET and no body' => sub {
    my $get = get('/health');
    my $raw = http_request($port,
                           "HEAD /health HTTP/1.1\r\nHost: localhost\r\n"
                           . "Connection: close\r\n\r\n");

    my ($head) = Engram::parse_responses($raw, head => 1);
    is($head->{status}, 200, 'status 200');
    is($head->{headers}{'content-length'}, length $get->{body},
       'Content-Length is that of the GET body');
    is($head->{headers}{'content-type'}, 'application/json',
       'Content-Type: application/json');
    like($raw, qr/\r\n\r\n\z/, 'nothing follows the header');
};


subtest 'an unknown path is 404' => sub {
    my $res = get('/no/such/thing');
    is($res->{status}, 404, 'status 404');
    like($res->{headers}{'content-type'}, qr{^text/html}, 'an HTML body');
    like($res->{body}, qr/404 Not Found/, 'that says "404 Not Found"');
};


subtest 'POST /health is 405 with Allow: GET, HEAD' => sub {
    my $res = ask(Engram::Conn::request_bytes(POST => '/health',
                      body => 'x=1', headers => ['Connection: close']));
    is($res->{status}, 405, 'status 405');
    is($res->{headers}{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
};


subtest 'a request line that is not HTTP is 400 and the connection closes' =>
sub {
    my $c = Engram::Conn->new($port);
    $c->send("this is not http\r\n\r\n");

    my $res = $c->response;
    is($res && $res->{status}, 400, 'status 400');
    is($res && $res->{headers}{connection}, 'close', 'Connection: close');
    ok($c->wait_closed, 'the server closes the connection');
};


subtest 'HTTP/2.0 in the request line is 505' => sub {
    my $res = ask("GET /health HTTP/2.0\r\nHost: localhost\r\n\r\n");
    is($res && $res->{status}, 505, 'status 505');
};


subtest 'HTTP/1.1 without Host is 400' => sub {
    my $res = ask("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    is($res && $res->{status}, 400, 'status 400');
};


subtest 'HTTP/1.0 without Host is served' => sub {
    my $res = ask("GET /health HTTP/1.0\r\n\r\n");
    is(handler_of($res), 'health', 'health answers');
};


subtest 'two Host headers are 400' => sub {
    my $res = ask("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    is($res && $res->{status}, 400, 'status 400');
};


subtest 'Content-Length together with Transfer-Encoding is 400' => sub {
    my $res = ask("POST /health HTTP/1.1\r\nHost: localhost\r\n"
                  . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                  . "0\r\n\r\n");
    is($res && $res->{status}, 400, 'status 400');
};


subtest 'a request line longer than a large buffer is 414' => sub {
    my $res = ask("GET /" . ('a' x 2000) . " HTTP/1.1\r\n"
                  . "Host: localhost\r\n\r\n");
    is($res && $res->{status}, 414, 'status 414');
};


subtest 'a request line longer than the first buffer but within a large '
        . 'one is served' => sub {
    my $res = get('/health?' . ('a' x 600));
    is(handler_of($res), 'health', 'health answers');
};


subtest 'a header line longer than a large buffer is 431' => sub {
    my $res = ask("GET /health HTTP/1.1\r\nHost: localhost\r\n"
                  . 'X-Long: ' . ('b' x 2000) . "\r\n\r\n");
    is($res && $res->{status}, 431, 'status 431');
};


subtest 'headers that need more than NUM large buffers are 431' => sub {
    my @headers = map { "X-H$_: " . ('c' x 300) } 1 .. 10;
    my $res = get('/health', @headers);
    is($res && $res->{status}, 431, 'ten headers of 300 bytes: status 431');
};


subtest 'headers that fit in NUM large buffers are served' => sub {
    my @headers = map { "X-H$_: " . ('c' x 300) } 1 .. 4;
    is(handler_of(get('/health', @headers)), 'health',
       'four headers of 300 bytes: health answers');
};


subtest 'a request written one byte at a time is served' => sub {
    my $c = Engram::Conn->new($port);
    ok($c->send("GET /health HTTP/1.1\r\nHost: localhost\r\n"
                . "Connection: close\r\n\r\n", chunk => 1),
       'the request is sent byte by byte');
    is(handler_of($c->response), 'health', 'health answers');
};


subtest 'an absolute-form request target picks the location by its path' =>
sub {
    my $res = ask("GET http://example.test/health HTTP/1.1\r\n"
                  . "Host: localhost\r\nConnection: close\r\n\r\n");
    is(handler_of($res), 'health', 'health answers');
};


for my $case (['/%68ealth', 'a percent-encoded letter'],
              ['/%64iscovery', 'a percent-encoded first letter'],
              ['/x/../health', 'a "/../" segment'],
              ['/./health', 'a "/./" segment'],
              ['//health', 'a double slash'],
              ['/a/b/../../health', 'two "/../" segments'],
              ['/x/%2e%2e/health', 'a percent-encoded "/../"'],
              ['/health?x=/../..', 'dots in the query string'])
{
    my ($path, $what) = @$case;

    subtest "a path with $what is decoded before the location is chosen "
            . "($path)" => sub {
        is(handler_of(get($path)), $path =~ /iscovery/ ? 'discovery'
                                                       : 'health',
           'the exact location answers');
    };
}


subtest 'a percent-encoded "#" is part of the path, not a fragment' => sub {
    is(handler_of(get('/health%23x')), 404,
       '/health%23x is not /health');
};


for my $path ('/../health', '/%2e%2e/health', '/a/../../health', '/..') {
    subtest "a path that climbs above the root is 400 ($path)" => sub {
        my $res = get($path);
        is($res && $res->{status}, 400, 'status 400');
    };
}


subtest 'after all this the worker still serves' => sub {
    is(handler_of(get('/health')), 'health', 'health answers');
};


done_testing;
