#!/usr/bin/perl

# Starting and stopping: a daemonized master with its workers, the pid file,
# -s stop and -s quit, and the foreground modes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for);


# an instance with $workers workers and more main directives, not started
sub instance {
    my ($workers, $extra) = @_;

    my $t = Engram->new;
    $extra //= '';

    $t->write_config(<<"EOF");
%%TEST_GLOBALS%%
worker_processes $workers;
$extra
events { worker_connections 64; }
EOF

    return $t;
}


subtest 'the daemon runs in the background and its pid file holds the '
        . 'master pid' => sub {
    my $t = instance(1);
    $t->start;

    my $master = $t->master_pid;

    ok($master, 'the pid file has a pid');
    ok(Engram::pid_alive($master), 'that process runs');
    like(Engram::title($master),
         qr/^engram: master process \Q${\ $t->binary }\E -p /,
         'it is titled "engram: master process" with the command line');
    is(Engram::proc_stat($master)->{session}, $master,
       'it leads a session of its own');
    is($t->wait_child, 0, 'the process that started it exited with 0');
    isnt(Engram::proc_stat($master)->{ppid}, $$,
         'the master is not a child of the test');

    ok($t->stop, 'stops');
};


for my $n (2, 3) {
    subtest "worker_processes $n starts $n workers, children of the master"
    => sub {
        my $t = instance($n);
        $t->start(workers => $n);

        my $master = $t->master_pid;
        my @workers = $t->worker_pids;

        is(scalar @workers, $n, "$n workers");
        is(scalar(grep { Engram::proc_stat($_)->{ppid} == $master }
                  @workers),
           $n, 'every one is a child of the master');
        is(scalar(grep { Engram::title($_) eq 'engram: worker process' }
                  @workers),
           $n, 'every one is titled "engram: worker process"');
        is(scalar(() = $t->processes), $n + 1,
           'no other process runs: the master and its workers');

        ok($t->stop, 'stops');
    };
}


subtest 'workers run as nobody when started by root, else as the user' =>
sub {
    my $t = instance(2);
    $t->start(workers => 2);

    my $want = $< == 0 ? scalar getpwnam('nobody') : $<;
    my $master_uid = uid_of($t->master_pid);

    is($master_uid, $<, 'the master keeps the user that started it');

    for my $pid ($t->worker_pids) {
        is(uid_of($pid), $want, "worker $pid runs as uid $want");
    }

    ok($t->stop, 'stops');
};


subtest 'stop leaves no process behind and removes the pid file' => sub {
    my $t = instance(2);
    $t->start(workers => 2);

    my @pids = $t->processes;
    my $r = $t->run('-s', 'stop');

    is($r->{exit}, 0, 'engram -s stop exits 0');
    ok($t->wait_gone(@pids), 'the master and the workers exit');
    ok(wait_for(sub { !-e $t->path('logs/engram.pid') }),
       'the pid file is removed');
    is_deeply([$t->processes], [], 'no process of the prefix is left');

    ok($t->stop, 'nothing left to stop');
};


subtest 'quit leaves no process behind and removes the pid file' => sub {
    my $t = instance(2);
    $t->start(workers => 2);

    my @workers = $t->worker_pids;
    my @pids = $t->processes;
    my $r = $t->run('-s', 'quit');

    is($r->{exit}, 0, 'engram -s quit exits 0');
    ok($t->wait_gone(@pids), 'the master and the workers exit');
    ok(wait_for(sub { !-e $t->path('logs/engram.pid') }),
       'the pid file is removed');
    is_deeply([$t->processes], [], 'no process of the prefix is left');

    for my $pid (@workers) {
        ok($t->log_lines(qr/ $pid#0: gracefully shutting down$/),
           "worker $pid shut down gracefully");
    }

    ok($t->log_lines(qr/\[notice\] \d+#0: exit$/), 'the master logs exit');

    ok($t->stop, 'nothing left to stop');
};


subtest 'quit sent the moment the pid file appears stops every process' =>
sub {
    # the master writes its pid file before it blocks signals and starts
    # its workers: a signal in that window must not be lost, nor one that
    # reaches a worker before its event loop is ready
    for my $round (1 .. 20) {
        my $t = instance(2);

        $t->start(wait => 'pid');
        $t->signal('QUIT');

        ok(wait_for(sub { !$t->processes }, 10),
           "round $round: every process exits")
            or diag($t->_process_table);

        $t->stop;
    }
};


subtest 'a stopped instance starts again from the same prefix' => sub {
    my $t = instance(2);

    $t->start(workers => 2);
    my $first = $t->master_pid;
    ok($t->stop, 'stops');

    $t->start(workers => 2);
    my $second = $t->master_pid;

    isnt($second, $first, 'a new master runs');
    is(scalar $t->active_worker_pids, 2, 'with its two workers');

    ok($t->stop, 'stops again');
};


subtest 'daemon off keeps the master in the foreground' => sub {
    my $t = instance(2, 'daemon off;');
    $t->start(workers => 2);

    my $master = $t->master_pid;

    is($master, $t->{child}, 'the process the test started is the master');
    like(Engram::title($master), qr/^engram: master process/,
         'it is titled as the master');
    is(scalar $t->active_worker_pids, 2, 'it runs two workers');

    ok($t->stop, 'stops with -s quit');
    is($t->wait_child, 0, 'the master exited with 0');
};


subtest 'single process mode runs in the foreground and stops on TERM' =>
sub {
    my $t = instance(2, 'daemon off; master_process off;');
    $t->start;

    my $pid = $t->master_pid;

    is($pid, $t->{child}, 'the pid file holds the process the test started');
    is_deeply([$t->children($pid)], [], 'it has no worker processes');
    is_deeply([$t->processes], [$pid], 'it is the only process');

    ok($t->signal('TERM'), 'TERM is sent');
    is($t->wait_child, 0, 'it exits with 0');
    ok(!-e $t->path('logs/engram.pid'), 'the pid file is removed');

    ok($t->stop, 'nothing left to stop');
};


done_testing;


sub uid_of {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/status" or return undef;
    my ($uid) = map { /^Uid:\s+(\d+)/ ? $1 : () } <$fh>;
    close $fh;

    return $uid;
}
