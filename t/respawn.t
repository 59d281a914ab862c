#!/usr/bin/perl

# A worker that dies is replaced by the master, which logs how it died.

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


subtest 'a worker killed with signal 9 is replaced by a new worker' => sub {
    my $t = started();

    my $master = $t->master_pid;
    my ($victim, $other) = $t->active_worker_pids;

    ok(kill('KILL', $victim), "worker $victim is killed");
    ok($t->wait_gone($victim), 'it is gone');

    my @now = $t->wait_for_workers(2, exclude => [$victim]);
    is(scalar @now, 2, 'two workers run again');

    my ($new) = grep { $_ != $other } @now;
    ok($new && $new != $victim, "the new one has a new pid ($new)");
    ok((grep { $_ == $other } @now), "worker $other was left alone");
    is(Engram::proc_stat($new)->{ppid}, $master,
       'it is a child of the master');

    ok($t->stop, 'stops');
};


subtest 'the master logs that the worker exited on signal 9' => sub {
    my $t = started();

    my $master = $t->master_pid;
    my ($victim) = $t->active_worker_pids;
    my $from = $t->log_offset;

    kill 'KILL', $victim;

    ok($t->wait_for_log(
           qr/\[error\] $master#0: worker process $victim exited on signal 9$/,
           from => $from),
       'the error names the worker and the signal');

    my $line = $t->wait_for_log(
        qr/\[notice\] $master#0: start worker process \d+$/, from => $from);
    my ($new) = ($line // '') =~ /(\d+)$/;

    ok($new, 'the start of a worker is logged');
    ok($new && (grep { $_ == $new }
                $t->wait_for_workers(2, exclude => [$victim])),
       'the logged pid is the new worker');

    ok($t->stop, 'stops');
};


subtest 'every worker killed at once is replaced' => sub {
    my $t = started();

    my @old = $t->active_worker_pids;
    kill 'KILL', @old;

    is(scalar $t->wait_for_workers(2, exclude => \@old), 2,
       'two new workers run');

    ok($t->stop, 'stops');
};


done_testing;
