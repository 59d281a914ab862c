#!/usr/bin/perl

# ENGRAM_* environment variables: set and not empty, they win over the
# configuration file; an invalid value fails naming the variable.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for);


sub instance {
    my $t = Engram->new;

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 1;
events {
    worker_connections 64;
    use epoll;
}
EOF

    return $t;
}


subtest 'ENGRAM_WORKER_PROCESSES overrides worker_processes of the file' =>
sub {
    my $t = instance();
    $t->start(env => { ENGRAM_WORKER_PROCESSES => 3 }, workers => 3);

    is(scalar $t->active_worker_pids, 3, 'three workers, not one');

    ok($t->stop, 'stops');
};


subtest 'an empty ENGRAM_WORKER_PROCESSES leaves the value of the file' =>
sub {
    my $t = instance();
    $t->start(env => { ENGRAM_WORKER_PROCESSES => '' }, workers => 1);

    is(scalar $t->active_worker_pids, 1, 'one worker');

    ok($t->stop, 'stops');
};


subtest 'the environment still wins after a reload' => sub {
    my $t = instance();
    $t->start(env => { ENGRAM_WORKER_PROCESSES => 3 }, workers => 3);

    my @old = $t->active_worker_pids;
    $t->signal('HUP');

    is(scalar $t->wait_for_workers(3, exclude => \@old), 3,
       'three new workers after HUP');

    ok($t->stop, 'stops');
};


subtest 'an invalid ENGRAM_WORKER_PROCESSES fails the test naming it' =>
sub {
    my $t = instance();
    my $r = $t->run({ env => { ENGRAM_WORKER_PROCESSES => 'abc' } }, '-t');

    is($r->{exit}, 1, 'exit status 1');
    my $value = 'invalid value "abc" in "worker_processes" directive';
    my $where = 'in environment variable ENGRAM_WORKER_PROCESSES';

    like($r->{stderr}, qr/\[emerg\] \Q$value\E.* \Q$where\E$/m,
         'the value, the directive and the variable are named');
    like($r->{stderr}, qr/test failed/, 'the test failed');
};


subtest 'an invalid ENGRAM_WORKER_PROCESSES stops the start' => sub {
    my $t = instance();

    $t->allow_log(qr/\[emerg\] .* ENGRAM_WORKER_PROCESSES$/);

    ok(!eval { $t->start(env => { ENGRAM_WORKER_PROCESSES => 'abc' }); 1 },
       'engram does not start');
    like($@, qr/exit status/, 'it exited with an error');
    like($t->read_file('run/start.stderr'),
         qr/in environment variable ENGRAM_WORKER_PROCESSES/,
         'and named the variable');
    is_deeply([$t->processes], [], 'no process is left');
};


subtest 'ENGRAM_EVENTS_USE=poll selects the poll event method' => sub {
    my $t = instance();
    $t->start(env => { ENGRAM_EVENTS_USE => 'poll' });

    ok($t->log_lines(qr/\[notice\] \d+#0: using the "poll" event method$/),
       'the log says poll');
    ok(!$t->log_lines(qr/using the "epoll" event method/),
       'and never epoll, which the file names');

    ok($t->stop, 'stops');
};


subtest 'without ENGRAM_EVENTS_USE the method of the file is used' => sub {
    my $t = instance();
    $t->start;

    ok($t->log_lines(qr/\[notice\] \d+#0: using the "epoll" event method$/),
       'the log says epoll');

    ok($t->stop, 'stops');
};


subtest 'an unknown ENGRAM_EVENTS_USE fails the test naming it' => sub {
    my $t = instance();
    my $r = $t->run({ env => { ENGRAM_EVENTS_USE => 'select' } }, '-t');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr},
         qr/\[emerg\] .*"select".*
            \Q in environment variable ENGRAM_EVENTS_USE\E$/mx,
         'the value and the variable are named');
};


subtest 'an invalid ENGRAM_WORKER_CONNECTIONS fails the test naming it' =>
sub {
    my $t = instance();
    my $r = $t->run({ env => { ENGRAM_WORKER_CONNECTIONS => 'many' } }, '-t');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr},
         qr/\[emerg\] .*"many".*
            \Q in environment variable ENGRAM_WORKER_CONNECTIONS\E$/mx,
         'the value and the variable are named');
};


subtest 'ENGRAM_PID moves the pid file' => sub {
    my $t = instance();
    $t->pid_file('logs/from-env.pid');
    $t->start(env => { ENGRAM_PID => 'logs/from-env.pid' });

    ok(-e $t->path('logs/from-env.pid'), 'the pid file named by the variable');
    ok(!-e $t->path('logs/engram.pid'), 'not the one of the file');

    # -s quit runs with the same environment and finds the master
    ok($t->stop, 'stops');
    ok(!-e $t->path('logs/from-env.pid'), 'the pid file is removed');
};


subtest 'ENGRAM_ERROR_LOG sets the log file and its level' => sub {
    my $t = instance();
    $t->start(env => { ENGRAM_ERROR_LOG => 'logs/from-env.log notice' });

    my $master = $t->master_pid;

    ok(wait_for(sub {
           $t->error_log('logs/from-env.log')
               =~ /\[notice\] $master#0: start worker process/ }),
       'the master logs to the file named by the variable');

    my $before = $t->log_offset;
    ok($t->stop, 'stops');
    is($t->log_offset, $before, 'logs/error.log of the file gets nothing');
};


subtest 'ENGRAM_DAEMON=off keeps the master in the foreground' => sub {
    my $t = instance();
    $t->start(env => { ENGRAM_DAEMON => 'off' });

    is($t->master_pid, $t->{child},
       'the process the test started is the master');

    ok($t->stop, 'stops');
    is($t->wait_child, 0, 'it exited with 0');
};


subtest 'ENGRAM_DAEMON=maybe fails the test naming it' => sub {
    my $t = instance();
    my $r = $t->run({ env => { ENGRAM_DAEMON => 'maybe' } }, '-t');

    is($r->{exit}, 1, 'exit status 1');
    my $value = 'invalid value "maybe" in "daemon" directive';
    my $where = 'in environment variable ENGRAM_DAEMON';

    like($r->{stderr}, qr/\[emerg\] \Q$value\E.* \Q$where\E$/m,
         'the value and the variable are named');
};


done_testing;
