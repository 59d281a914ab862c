#!/usr/bin/perl

# Reload (HUP): new workers with the new configuration replace the old ones;
# a broken configuration is refused and the old workers keep running.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for);


# a configuration with $workers workers and more main directives
sub config {
    my ($workers, $extra) = @_;

    $extra //= '';

    return <<"EOF";
%%TEST_GLOBALS%%
worker_processes $workers;
$extra
events { worker_connections 64; }
EOF
}


sub started {
    my ($workers) = @_;

    my $t = Engram->new;
    $t->write_config(config($workers));
    $t->start(workers => $workers);

    return $t;
}


subtest 'HUP replaces every worker and the old workers exit' => sub {
    my $t = started(2);

    my $master = $t->master_pid;
    my @old = $t->active_worker_pids;
    my $from = $t->log_offset;

    ok($t->signal('HUP'), 'HUP is sent');

    my @new = $t->wait_for_workers(2, exclude => \@old);
    is(scalar @new, 2, 'two new workers run');
    ok($t->wait_gone(@old), 'the old workers exit');

    is($t->master_pid, $master, 'the master stays the same');
    ok($t->log_lines(qr/\[notice\] $master#0: reconfiguring$/, from => $from),
       'the master logs "reconfiguring"');

    for my $pid (@old) {
        ok($t->wait_for_log(qr/worker process $pid exited with code 0$/,
                            from => $from),
           "old worker $pid exited with code 0");
    }

    ok($t->stop, 'stops');
};


subtest 'reload by engram -s reload replaces every worker' => sub {
    my $t = started(2);

    my @old = $t->active_worker_pids;
    my $r = $t->run('-s', 'reload');

    is($r->{exit}, 0, 'engram -s reload exits 0');
    is(scalar $t->wait_for_workers(2, exclude => \@old), 2,
       'two new workers run');
    ok($t->wait_gone(@old), 'the old workers exit');

    ok($t->stop, 'stops');
};


subtest 'HUP with more worker_processes starts more workers' => sub {
    my $t = started(2);

    my @old = $t->active_worker_pids;
    $t->write_config(config(3));
    $t->signal('HUP');

    is(scalar $t->wait_for_workers(3, exclude => \@old), 3,
       'three new workers run');
    ok($t->wait_gone(@old), 'the old workers exit');

    ok($t->stop, 'stops');
};


subtest 'HUP with fewer worker_processes leaves fewer workers' => sub {
    my $t = started(3);

    my @old = $t->active_worker_pids;
    $t->write_config(config(1));
    $t->signal('HUP');

    is(scalar $t->wait_for_workers(1, exclude => \@old), 1,
       'one new worker runs');
    ok($t->wait_gone(@old), 'the old workers exit');
    is(scalar(() = $t->worker_pids), 1, 'no other worker is left');

    ok($t->stop, 'stops');
};


subtest 'HUP with a broken config keeps the old workers and the master' =>
sub {
    my $t = started(2);

    # the error this test provokes is expected in the log
    $t->allow_log(qr/\[emerg\] \d+#0: unknown directive "foo" in /);

    my $master = $t->master_pid;
    my @old = $t->active_worker_pids;
    my $from = $t->log_offset;
    my $conf = $t->path('conf/engram.conf');

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 3;
foo;
events { worker_connections 64; }
EOF

    ok($t->signal('HUP'), 'HUP is sent');

    ok($t->wait_for_log(qr/\[error\] $master#0: reload failed/,
                        from => $from),
       'the master logs that the reload failed');
    ok($t->log_lines(
           qr/\[emerg\] $master#0: unknown directive "foo" in \Q$conf\E:3$/,
           from => $from),
       'the error names the directive, the file and line 3');

    is_deeply([$t->active_worker_pids], [@old], 'the same workers run');
    is_deeply([$t->worker_pids], [@old], 'and no other worker started');
    ok(Engram::pid_alive($master), 'the master runs');
    is($t->master_pid, $master, 'the pid file still holds it');

    # -s quit reads the configuration: give it a good one to stop
    $t->write_config(config(2));
    ok($t->stop, 'stops');
};


subtest 'after a failed reload a fixed config loads on the next HUP' => sub {
    my $t = started(2);

    $t->allow_log(qr/\[emerg\] \d+#0: unknown directive "foo" in /);

    my $master = $t->master_pid;
    my @old = $t->active_worker_pids;
    my $from = $t->log_offset;

    $t->write_config(config(2, 'foo;'));
    $t->signal('HUP');
    ok($t->wait_for_log(qr/reload failed/, from => $from),
       'the broken config is refused');

    $t->write_config(config(3));
    $t->signal('HUP');

    is(scalar $t->wait_for_workers(3, exclude => \@old), 3,
       'three new workers run');
    ok($t->wait_gone(@old), 'the old workers exit');
    is($t->master_pid, $master, 'under the same master');

    ok($t->stop, 'stops');
};


done_testing;
