#!/usr/bin/perl

# The fixtures of t/lib/Engram.pm themselves: the checks that end every test
# must catch what they are there for, and the helpers later tests rely on
# must work. No engram process runs here.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::INET;
use POSIX ();
use Test::More;
use Test2::API qw(intercept);
use Time::HiRes qw(time);
use Engram qw(wait_for free_port http_get parse_responses run_command);


# runs check_logs on an instance whose log holds $text; returns whether the
# two checks passed (alert/crit/emerg, sanitizer)
sub checks_of {
    my ($text, @allow) = @_;

    my $t = Engram->new;
    $t->write_file('logs/error.log', $text);
    $t->allow_log(@allow);

    my $events = intercept { $t->check_logs };
    $t->{finished} = 1;   # checked here, not again at done_testing

    return map { $_->pass ? 1 : 0 }
           grep { $_->isa('Test2::Event::Ok') } @$events;
}


my $notice = "2026/11/26 03:50:46 [notice] 5345#0: start worker process 7\n";


subtest 'a clean log passes the final checks' => sub {
    is_deeply([checks_of($notice)], [1, 1], 'both checks pass');
};


for my $level (qw(alert crit emerg)) {
    subtest "a line at level $level fails the final check" => sub {
        my $line = "2026/11/26 03:50:46 [$level] 5345#0: something broke\n";
        is_deeply([checks_of($notice . $line)], [0, 1],
                  'the level check fails');
    };
}


subtest 'an [error] line passes the final checks' => sub {
    my $line = "2026/11/26 03:50:46 [error] 5345#0: worker process 9 "
               . "exited on signal 9\n";
    is_deeply([checks_of($line)], [1, 1], 'both checks pass');
};


subtest 'a line the test allows passes the final check' => sub {
    my $line = "2026/11/26 03:50:46 [emerg] 5345#0: unknown directive "
               . "\"foo\" in /x/engram.conf:3\n";

    is_deeply([checks_of($line, qr/unknown directive "foo"/)], [1, 1],
              'the allowed emerg passes');
    is_deeply([checks_of($line, qr/something else/)], [0, 1],
              'another allowance does not cover it');
};


for my $report ('==42==ERROR: AddressSanitizer: heap-use-after-free',
                '==42==ERROR: LeakSanitizer: detected memory leaks',
                'src/core/eg_string.c:12:5: runtime error: signed integer '
                . 'overflow')
{
    subtest "a sanitizer report fails the final check: $report" => sub {
        is_deeply([checks_of("$notice$report\n", qr/Sanitizer|runtime/)],
                  [1, 0], 'the sanitizer check fails, even when allowed');
    };
}


subtest 'a sanitizer report in the output of a command fails too' => sub {
    my $t = Engram->new;
    $t->write_file('run/1.stderr',
                   "==42==ERROR: LeakSanitizer: detected memory leaks\n");

    my $events = intercept { $t->check_logs };
    $t->{finished} = 1;

    my @ok = map { $_->pass ? 1 : 0 }
             grep { $_->isa('Test2::Event::Ok') } @$events;

    is_deeply(\@ok, [1, 0], 'the sanitizer check fails');
};


subtest 'wait_for returns as soon as the condition holds' => sub {
    my $n = 0;
    my $start = time;

    is(wait_for(sub { ++$n >= 3 ? 'done' : 0 }, 5), 'done',
       'the value of the condition');
    cmp_ok(time - $start, '<', 2, 'long before the timeout');
};


subtest 'wait_for gives up at its deadline' => sub {
    my $start = time;

    ok(!wait_for(sub { 0 }, 0.3), 'false');
    cmp_ok(time - $start, '>=', 0.3, 'not before the deadline');
    cmp_ok(time - $start, '<', 2, 'and soon after it');
};


subtest 'free_port gives distinct ports that can be bound' => sub {
    my @ports = map { free_port() } 1 .. 5;
    my %seen = map { $_ => 1 } @ports;

    is(scalar keys %seen, 5, 'five distinct ports');

    for my $port (@ports) {
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
            ReuseAddr => 1,
        );
        ok($sock, "port $port can be bound");
    }
};


subtest 'an instance keeps one port per name' => sub {
    my $t = Engram->new;
    $t->{finished} = 1;

    is($t->port('http'), $t->port('http'), 'the same name, the same port');
    isnt($t->port('http'), $t->port('gossip'), 'another name, another port');

    $t->write_config("listen %%PORT_http%%; # %%PREFIX%%\n");
    is($t->read_file('conf/engram.conf'),
       'listen ' . $t->port('http') . '; # ' . $t->prefix . "\n",
       'the placeholders of a config are replaced');
};


subtest 'http_get sends a GET request and returns status and body' => sub {
    my $port = free_port();

    my $server = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => $port,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or die "listen: $!";

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        # the child answers one request, then leaves without any END block
        eval {
            my $c = $server->accept or die "accept: $!";
            my $request = '';

            while (defined(my $line = <$c>)) {
                $request .= $line;
                last if $line eq "\r\n";
            }

            $request =~ s/\r\n/|/g;
            print {$c} "HTTP/1.0 404 Not Found\r\n"
                       . "Content-Type: text/plain\r\n"
                       . "\r\nyou sent: $request";
            close $c;
        };
        POSIX::_exit(0);
    }

    close $server;

    my ($status, $body, $head) = http_get($port, '/cluster/members');
    waitpid $pid, 0;

    is($status, 404, 'the status');
    is($body, 'you sent: GET /cluster/members HTTP/1.0|Host: localhost||',
       'the body, which shows the request');
    like($head, qr{^Content-Type: text/plain$}m, 'the headers');
};


subtest 'http_get returns nothing when nothing listens' => sub {
    my $port = free_port();
    my @r = http_get($port, '/', timeout => 2);

    is_deeply(\@r, [], 'an empty list');
};


subtest 'parse_responses splits pipelined responses by Content-Length' => sub {
    my @r = parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
                            . "X-A: 1\r\nx-a: 2\r\n\r\nabc"
                            . "HTTP/1.1 404 Not Found\r\nContent-Length: 0"
                            . "\r\n\r\n"
                            . "HTTP/1.1 200 OK\r\nContent-Len");

    is(scalar @r, 2, 'two whole responses, the partial third left out');
    is($r[0]{status}, 200, 'the first status');
    is($r[0]{body}, 'abc', 'its body');
    is($r[0]{headers}{'x-a'}, '1, 2', 'a repeated header joined');
    is_deeply($r[0]{header_lines}, [['Content-Length', 3], ['X-A', 1],
                                    ['x-a', 2]],
              'the header lines as sent');
    is($r[1]{reason}, 'Not Found', 'the second reason');
};


subtest 'parse_responses: no body after HEAD, to the end without a length' =>
sub {
    my ($head) = parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
                                 . "\r\n", head => 1);
    is($head->{body}, '', 'an answer to HEAD has no body');

    my ($close) = parse_responses("HTTP/1.0 200 OK\r\n\r\nall of it");
    is($close->{body}, 'all of it', 'no Content-Length: to the end');
};


subtest 'Engram::Conn reads pipelined answers and sees the close' => sub {
    my $port = free_port();

    my $server = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => $port,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or die "listen: $!";

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        # two answers in two writes, the first cut in its header
        eval {
            my $c = $server->accept or die "accept: $!";
            $c->autoflush(1);
            my $line = <$c>;
            print {$c} "HTTP/1.1 200 OK\r\nContent-Le";
            Time::HiRes::sleep(0.05);
            print {$c} "ngth: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n";
            close $c;
        };
        POSIX::_exit(0);
    }

    close $server;

    my $c = Engram::Conn->new($port, timeout => 5);
    ok($c, 'it connects');
    ok($c->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", chunk => 4),
       'it sends in pieces');

    my $first = $c->response;
    is($first && $first->{body}, 'ok', 'the first answer, though cut');
    is($c->response->{status}, 204, 'the second');
    ok($c->wait_closed, 'the close');
    ok(!defined $c->response(timeout => 0.2), 'and nothing more');

    waitpid $pid, 0;
};


subtest 'Engram::Conn->new fails with a reason when nothing listens' => sub {
    my $port = free_port();
    ok(!Engram::Conn->new($port, timeout => 2), 'no connection');
    like($Engram::Conn::ERROR, qr/\S/, "why: $Engram::Conn::ERROR");
};


subtest 'run_command gives the exit status and the output' => sub {
    my $r = run_command(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    is($r->{exit}, 3, 'the exit status');
    is($r->{stdout}, "out\n", 'standard output');
    is($r->{stderr}, "err\n", 'standard error');
};


subtest 'run_command kills a command at its deadline' => sub {
    my $start = time;
    my $r = run_command(['sleep', '30'], timeout => 0.3);

    ok($r->{timed_out}, 'it timed out');
    cmp_ok(time - $start, '<', 5, 'and did not wait for the command');
};


done_testing;
