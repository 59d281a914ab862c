#!/usr/bin/perl

# access_log and log_format: one line per request in the combined format
# or a format of one's own, values escaped, "access_log off", and USR1
# reopening the file after a rotation.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for);


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
http {
    log_format custom '$remote_addr|$request|$status|$body_bytes_sent|'
                      '$http_user_agent|$request_method|$uri|$args|'
                      '$server_protocol|$host|$http_x_note';

    access_log logs/access.log;

    server {
        listen 127.0.0.1:%%PORT_http%%;

        location = /health { health; }
        location = /quiet { health; access_log off; }
        location = /custom { health; access_log logs/custom.log custom; }
        location = /both {
            health;
            access_log logs/both.log custom;
            access_log logs/access.log;
        }
    }
}
EOF

$t->start(workers => 2);

my $port = $t->port('http');


# the lines of a log file; waits until it has at least $n of them
sub lines_of {
    my ($file, $n) = @_;

    my @lines;
    wait_for(sub {
        @lines = split /\n/, $t->read_file("logs/$file") // '';
        return @lines >= $n;
    });

    return @lines;
}


# requests on one connection, in order; the responses
sub ask {
    my (@requests) = @_;

    my %opts = ref $requests[0] eq 'HASH' ? %{ shift @requests } : ();
    my $c = Engram::Conn->new($port, %opts)
        or die "connect: $Engram::Conn::ERROR\n";

    return map { $c->request(@$_) } @requests;
}


# remote address, time, request, status, bytes, referer, user agent
my $quoted = qr/"([^"]*)"/;
my $combined =
    qr/^(\S+) - - \[([^\]]+)\] $quoted (\d{3}) (\d+) $quoted $quoted$/;


subtest 'a request is logged in the combined format' => sub {
    my $before = () = lines_of('access.log', 0);
    my ($res) = ask([GET => '/health?x=1', headers => ['User-Agent: t/1.0']]);

    my @lines = lines_of('access.log', $before + 1);
    my $line = $lines[-1] // '';

    my @f = $line =~ $combined;
    ok(@f, "the line is in the combined format: $line") or return;

    is($f[0], '127.0.0.1', 'the remote address');
    my $mon = qr/(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/;
    like($f[1], qr{^\d\d/$mon/\d{4}:\d\d:\d\d:\d\d [-+]\d{4}$},
         'the local time, as nginx writes it');
    is($f[2], 'GET /health?x=1 HTTP/1.1', 'the request line');
    is($f[3], 200, 'the status');
    is($f[4], length $res->{body}, 'the body bytes sent');
    is($f[5], '-', 'a missing Referer as "-"');
    is($f[6], 't/1.0', 'the user agent');
};


subtest 'the combined format has the Referer and the client address' => sub {
    my $before = () = lines_of('access.log', 0);

    ask({ local => '127.0.0.2' },
        [GET => '/health', headers => ['Referer: http://example.test/a']]);

    my ($line) = (lines_of('access.log', $before + 1))[-1];
    my @f = ($line // '') =~ $combined;

    is($f[0], '127.0.0.2', 'the remote address is the client\'s');
    is($f[5], 'http://example.test/a', 'the Referer');
};


subtest 'an error status and its body length are logged' => sub {
    my $before = () = lines_of('access.log', 0);
    my ($res) = ask([GET => '/nothing']);

    my ($line) = (lines_of('access.log', $before + 1))[-1];
    my @f = ($line // '') =~ $combined;

    is($f[3], 404, 'status 404');
    is($f[4], length $res->{body}, 'the length of the error page');
};


subtest 'a custom log_format writes its variables in order' => sub {
    my ($res) = ask([GET => '/custom?a=b&c', headers => ['User-Agent: ua',
                                                         'X-Note: n']]);

    my ($line) = (lines_of('custom.log', 1))[-1];
    is($line, join('|', '127.0.0.1', 'GET /custom?a=b&c HTTP/1.1', 200,
                   length $res->{body}, 'ua', 'GET', '/custom', 'a=b&c',
                   'HTTP/1.1', 'localhost', 'n'),
       'remote address, request, status, bytes, user agent, method, uri, '
       . 'args, protocol, host, a header');
};


subtest 'a variable without a value is logged as "-"' => sub {
    my $before = () = lines_of('custom.log', 0);
    ask([GET => '/custom', headers => ['User-Agent: ua']]);

    my ($line) = (lines_of('custom.log', $before + 1))[-1];
    my @f = split /\|/, $line // '', -1;

    is($f[7], '-', 'no query string: $args is "-"');
    is($f[10], '-', 'no X-Note header: $http_x_note is "-"');
};


subtest 'quotes, backslashes and control bytes are escaped as \xXX' => sub {
    my $before = () = lines_of('custom.log', 0);
    my $agent = "say \"hi\" \\ \x01 \xe9";
    ask([GET => '/custom', headers => ["User-Agent: $agent"]]);

    my ($line) = (lines_of('custom.log', $before + 1))[-1];
    my @f = split /\|/, $line // '', -1;

    is($f[4], 'say \x22hi\x22 \x5C \x01 \xE9',
       'the user agent with " \\ and bytes outside ASCII escaped');
};


subtest 'a quote in the user agent cannot break a combined line' => sub {
    my $before = () = lines_of('access.log', 0);
    ask([GET => '/health', headers => ['User-Agent: a" "b']]);

    my ($line) = (lines_of('access.log', $before + 1))[-1];
    my @f = ($line // '') =~ $combined;

    is($f[6], 'a\x22 \x22b', 'the user agent, its quotes escaped');
};


subtest 'a location with two access_log directives writes to both' => sub {
    my $before = () = lines_of('access.log', 0);
    ask([GET => '/both']);

    ok((grep { m{"GET /both HTTP/1\.1"} } lines_of('access.log', $before + 1)),
       'the combined log has the line');
    ok((grep { m{\|GET /both HTTP/1\.1\|} } lines_of('both.log', 1)),
       'the custom log has it too');
};


subtest 'access_log off writes nothing for its location' => sub {
    my $before = () = lines_of('access.log', 0);

    # on one connection, so the second line cannot come before the first
    ask([GET => '/quiet'], [GET => '/health?after-quiet']);

    my @new = (lines_of('access.log', $before + 1))[$before .. $before];
    like($new[0] // '', qr{"GET /health\?after-quiet HTTP/1\.1"},
         'the next line is the request after it');
    ok(!grep({ m{/quiet} } lines_of('access.log', 0)),
       'no line names /quiet');
};


subtest 'USR1 reopens the access log after it was moved' => sub {
    ask([GET => '/health?before-rotation']);
    lines_of('access.log', 1);

    rename $t->path('logs/access.log'), $t->path('logs/access.log.1')
        or die "rename: $!";

    my @workers = $t->active_worker_pids;
    my $from = $t->log_offset;

    ok($t->signal('USR1'), 'USR1 is sent');
    ok(wait_for(sub { -e $t->path('logs/access.log') }),
       'the master creates logs/access.log again');

    for my $pid (@workers) {
        ok($t->wait_for_log(qr/ $pid#0: reopening logs$/, from => $from),
           "worker $pid reopens its logs");
    }

    # more requests than workers, on new connections: every worker
    # writes at least once with good odds, and each line must land in the
    # new file
    ask([GET => "/health?after-rotation-$_"]) for 1 .. 6;

    my @new = lines_of('access.log', 6);
    is(scalar(grep { /after-rotation/ } @new), 6,
       'the requests after the reopen are in the new file');

    my @old = split /\n/, $t->read_file('logs/access.log.1') // '';
    ok((grep { /before-rotation/ } @old),
       'the one before is in the moved file');
    ok(!(grep { /after-rotation/ } @old), 'and nothing after it');
};


# "engram -t" with these http directives: (exit, stderr)
sub config_test {
    my ($directives) = @_;

    $t->write_config(<<"EOF", file => 'conf/test.conf');
%%TEST_GLOBALS%%
http {
    $directives
    server { listen 127.0.0.1:%%PORT_test%%; }
}
EOF

    my $r = $t->run({ conf => 'conf/test.conf' }, '-t');
    return ($r->{exit}, $r->{stderr});
}


my $test_conf = $t->path('conf/test.conf');


subtest 'an access_log with an unknown format is refused' => sub {
    my ($exit, $err) = config_test('access_log logs/x.log nope;');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/\[emerg\] unknown log format "nope" in \Q$test_conf\E:3/,
         'the message names the format and the line');
};


subtest 'a log_format with an unknown variable is refused' => sub {
    my ($exit, $err) = config_test('log_format f \'$remote_addr $bogus\';');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/\[emerg\] unknown variable "\$bogus" in the log format/,
         'the message names the variable');
};


subtest 'access_log off takes no format' => sub {
    my ($exit, $err) = config_test('access_log off combined;');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/"access_log" directive takes no format with "off"/,
         'and says so') or diag($err);
};


done_testing;
