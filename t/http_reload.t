#!/usr/bin/perl

# HTTP across a reload (HUP): a request in flight on a keep-alive
# connection is finished by the old worker, which then closes the
# connection; new connections go to the new workers; idle keep-alive
# connections are closed; and a broken configuration leaves the old
# workers serving.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for http_json);


sub config {
    my ($extra) = @_;
    $extra //= '';

    return <<"EOF";
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
$extra
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /health { health; }
        location = /metrics { metrics; }
    }
}
EOF
}


sub started {
    my $t = Engram->new;
    $t->write_config(config());
    $t->start(workers => 2);
    return $t;
}


# the pid of the worker that answered a /health on a new connection
sub health_pid {
    my ($t) = @_;
    my ($data) = http_json($t->port('http'), '/health');
    return $data ? $data->{pid} : undef;
}


# the value of a sample in /metrics
sub metric {
    my ($t, $name) = @_;
    my $c = Engram::Conn->new($t->port('http')) or return undef;
    my $res = $c->request(GET => '/metrics') or return undef;
    my ($v) = $res->{body} =~ /^\Q$name\E (\S+)$/m;
    return $v;
}


subtest 'a request in flight during a reload is answered by the old worker '
        . 'and the connection then closes' => sub {
    my $t = started();
    my @old = $t->active_worker_pids;

    my $c = Engram::Conn->new($t->port('http'));
    my $first = $c->request(GET => '/health');
    my ($pid) = $first->{body} =~ /"pid":(\d+)/;
    ok((grep { $_ == $pid } @old), "an old worker ($pid) answers first");

    # half of the next request, and wait until the worker has read it
    $c->send("GET /health HTTP/1.1\r\nHost: loc");
    ok(wait_for(sub {
           (metric($t, 'engram_http_connections{state="reading"}') // 0)
           >= 1
       }), 'the worker is reading the second request');

    ok($t->signal('HUP'), 'HUP is sent');
    my @new = $t->wait_for_workers(2, exclude => \@old);
    is(scalar @new, 2, 'two new workers run');

    ok(wait_for(sub { Engram::title($pid) =~ /shutting down/ }),
       "worker $pid is shutting down");
    ok($t->owns($pid), 'and still runs, for the request in flight');

    $c->send("alhost\r\n\r\n");
    my $res = $c->response;

    is($res && $res->{status}, 200, 'the request is answered');
    like($res && $res->{body}, qr/"pid":$pid\b/, "by the old worker $pid");
    is($res && $res->{headers}{connection}, 'close', 'with Connection: close');
    ok($c->wait_closed, 'then the connection is closed');

    ok($t->wait_gone($pid), "worker $pid exits");

    my %new = map { $_ => 1 } @new;
    my @pids = map { health_pid($t) } 1 .. 6;
    is(scalar(grep { defined && $new{$_} } @pids), 6,
       'new connections are answered by the new workers');

    ok($t->stop, 'stops');
};


subtest 'an idle keep-alive connection is closed by its worker at a reload'
=> sub {
    my $t = started();
    my @old = $t->active_worker_pids;

    my $c = Engram::Conn->new($t->port('http'));
    is($c->request(GET => '/health')->{status}, 200, 'a first request');

    ok($t->signal('HUP'), 'HUP is sent');
    ok($c->wait_closed, 'the idle connection is closed');
    is($c->buffer, '', 'without a word');

    is(scalar $t->wait_for_workers(2, exclude => \@old), 2,
       'two new workers run');
    ok($t->wait_gone(@old), 'the old workers exit');

    ok($t->stop, 'stops');
};


subtest 'connections made during a reload are all answered' => sub {
    my $t = started();
    my %old = map { $_ => 1 } $t->active_worker_pids;

    my ($asked, $failed, $by_old, $by_new) = (0, 0, 0, 0);

    # HUP after the tenth request; go on until the new workers answered
    # twenty (bounded: at most 500 requests)
    while ($by_new < 20 && $asked < 500) {
        $t->signal('HUP') if ++$asked == 10;

        my $pid = health_pid($t);

        if (!defined $pid) {
            $failed++;
        } elsif ($old{$pid}) {
            $by_old++;
        } else {
            $by_new++;
        }
    }

    is($failed, 0, "none of $asked requests failed");
    cmp_ok($by_old, '>=', 9, "the old workers answered before ($by_old)");
    is($by_new, 20, 'and the new ones after');

    ok($t->stop, 'stops');
};


subtest 'a HUP with a broken configuration keeps the old workers serving' =>
sub {
    my $t = started();
    $t->allow_log(qr/\[emerg\] \d+#0: unknown directive "bogus" in /);

    my %old = map { $_ => 1 } $t->active_worker_pids;
    my $master = $t->master_pid;
    my $from = $t->log_offset;

    $t->write_config(config('bogus;'));
    ok($t->signal('HUP'), 'HUP is sent');
    ok($t->wait_for_log(qr/\[error\] $master#0: reload failed/,
                        from => $from),
       'the reload fails');

    my @pids = map { health_pid($t) } 1 .. 10;
    is(scalar(grep { defined && $old{$_} } @pids), 10,
       'the same workers answer /health');
    is_deeply([sort { $a <=> $b } $t->worker_pids],
              [sort { $a <=> $b } keys %old], 'and no other worker runs');

    # once the file is good again, a reload goes through
    $t->write_config(config());
    ok($t->signal('HUP'), 'HUP is sent again, with a good configuration');
    is(scalar $t->wait_for_workers(2, exclude => [keys %old]), 2,
       'two new workers run');

    my $pid = health_pid($t);
    ok($pid && !$old{$pid}, "a new worker answers ($pid)");

    ok($t->stop, 'stops');
};


done_testing;
