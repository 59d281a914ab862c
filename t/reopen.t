#!/usr/bin/perl

# Reopening logs (USR1, engram -s reopen), as logrotate does it: the log is
# moved away, the daemon is told, and it writes to a new file of the old
# name.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for);


sub started {
    my $t = Engram->new;

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
EOF

    $t->start(workers => 2);

    return $t;
}


# moves logs/error.log to logs/error.log.1, as a log rotation does
sub rotate {
    my ($t) = @_;

    rename $t->path('logs/error.log'), $t->path('logs/error.log.1')
        or die "rename: $!";
    ok(!-e $t->path('logs/error.log'), 'the log is moved away');
}


# waits until every worker has logged, to the old file, that it reopens:
# the reopen itself comes right after that line
sub wait_workers_reopened {
    my ($t, @workers) = @_;

    return wait_for(sub {
        my $old = $t->error_log('logs/error.log.1');
        return !grep { $old !~ / $_#0: reopening logs$/m } @workers;
    });
}


subtest 'USR1 makes the master create the log file again' => sub {
    my $t = started();

    rotate($t);
    ok($t->signal('USR1'), 'USR1 is sent');

    ok(wait_for(sub { -e $t->path('logs/error.log') }),
       'logs/error.log exists again');
    ok($t->wait_for_log(qr/reopening logs/, file => 'logs/error.log.1'),
       'the old file tells that logs are reopened');

    ok($t->stop, 'stops');
};


subtest 'the master writes to the new file after a reopen' => sub {
    my $t = started();
    my $master = $t->master_pid;

    rotate($t);
    $t->signal('USR1');
    ok(wait_for(sub { -e $t->path('logs/error.log') }), 'the file is back');

    # "reconfiguring" comes from the master before it reads the new config,
    # so it is written by the descriptor that the reopen made
    $t->signal('HUP');

    ok($t->wait_for_log(qr/\[notice\] $master#0: reconfiguring$/),
       'the next HUP is logged to the new file');
    ok(!$t->log_lines(qr/reconfiguring/, file => 'logs/error.log.1'),
       'and not to the moved one');

    ok($t->stop, 'stops');
};


subtest 'the workers write to the new file after a reopen' => sub {
    my $t = started();
    my @workers = $t->active_worker_pids;

    rotate($t);
    $t->signal('USR1');
    ok(wait_workers_reopened($t, @workers), 'every worker reopens');

    # a graceful stop makes every worker log once more, without a new cycle
    ok($t->stop, 'stops');

    for my $pid (@workers) {
        ok($t->log_lines(qr/ $pid#0: gracefully shutting down$/),
           "worker $pid logs its shutdown to the new file");
    }

    ok(!$t->log_lines(qr/gracefully shutting down/,
                      file => 'logs/error.log.1'),
       'nothing of it goes to the moved file');
};


subtest 'engram -s reopen does what USR1 does' => sub {
    my $t = started();
    my @workers = $t->active_worker_pids;

    rotate($t);

    my $r = $t->run('-s', 'reopen');
    is($r->{exit}, 0, 'engram -s reopen exits 0');

    ok(wait_for(sub { -e $t->path('logs/error.log') }), 'the file is back');
    ok(wait_workers_reopened($t, @workers), 'every worker reopens');

    ok($t->stop, 'stops');
    ok($t->log_lines(qr/gracefully shutting down/),
       'the shutdown is logged to the new file');
};


subtest 'the new log file belongs to the user of the workers' => sub {
    my $t = started();
    my @workers = $t->active_worker_pids;

    rotate($t);
    $t->signal('USR1');
    ok(wait_workers_reopened($t, @workers), 'every worker reopens');

    my $worker_uid = (stat "/proc/$workers[0]")[4];
    my $file_uid = (stat $t->path('logs/error.log'))[4];

    is($file_uid, $worker_uid, "uid $worker_uid owns the new file");

    ok($t->stop, 'stops');
};


done_testing;
