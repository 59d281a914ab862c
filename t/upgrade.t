#!/usr/bin/perl

# Binary upgrade (USR2) as an operator does it, with a client asking
# /health all along: the new master inherits the listening socket, both
# generations serve, WINCH and QUIT retire the old one, and not a single
# connection is refused. And the two ways back: HUP to the old master
# then QUIT to the new one, or the new master leaving on its own.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use IO::Handle;
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Engram qw(wait_for);


sub started {
    my $t = Engram->new;

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /health { health; }
    }
}
EOF

    $t->start(workers => 2);

    return $t;
}


###########################################################################
# the client: a child process that asks /health on a new connection every
# few milliseconds and writes one line per attempt: "ok PID" or
# "fail WHY". Bounded: it stops by itself after 60 s or 20000 attempts.
# While the file "pause" exists it makes no attempt (and says "paused").

sub start_client {
    my ($port) = @_;

    my $dir = tempdir('engram-client-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $client = { dir => $dir, log => "$dir/attempts", stop => "$dir/stop",
                   pause => "$dir/pause" };

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open my $out, '>', $client->{log} or POSIX::_exit(1);
        $out->autoflush(1);

        my $deadline = time + 60;
        my $paused = 0;

        for (1 .. 20000) {
            last if -e $client->{stop} || time > $deadline;

            if (-e $client->{pause}) {
                print {$out} "paused\n" unless $paused++;
                sleep 0.005;
                redo;
            }

            $paused = 0;

            my $c = Engram::Conn->new($port, timeout => 5);

            if (!$c) {
                print {$out} "fail connect: $Engram::Conn::ERROR\n";

            } else {
                my $t0 = time;
                my $res = $c->request(GET => '/health', version => '1.0');
                my ($worker) = $res ? $res->{body} =~ /"pid":(\d+)/ : ();

                if ($worker) {
                    print {$out} "ok $worker\n";

                } else {
                    printf {$out} "fail no answer at %.3f after %.3f s: %s, "
                                  . "%d bytes\n", $t0, time - $t0,
                                  $c->eof ? 'closed' : 'timed out',
                                  length $c->buffer;
                }

                $c->close;
            }

            sleep 0.002;
        }

        close $out;

        # not exit: the END blocks of the test would stop the daemon
        POSIX::_exit(0);
    }

    $client->{pid} = $pid;

    # it runs once it has been answered
    wait_for(sub { scalar client_attempts($client) });

    return $client;
}


# the attempts so far, as lines; their number in scalar context
sub client_attempts {
    my ($client) = @_;

    open my $fh, '<', $client->{log} or return;
    my @lines = grep { /\n\z/ } <$fh>;
    close $fh;
    chomp @lines;

    return @lines;
}


# the client finishes its attempt and waits
sub pause_client {
    my ($client) = @_;

    open my $fh, '>', $client->{pause} or die "$client->{pause}: $!";
    close $fh;

    return wait_for(sub { (client_attempts($client))[-1] eq 'paused' });
}


sub resume_client {
    my ($client) = @_;
    unlink $client->{pause};
}


sub failures {
    my (@attempts) = @_;
    return grep { /^fail/ } @attempts;
}


# waits until five attempts after the first $from were answered by the
# pids
sub answered_by {
    my ($client, $from, @pids) = @_;

    my %want = map { $_ => 1 } @pids;

    return wait_for(sub {
        my @a = client_attempts($client);
        return 5 <= grep { /^ok (\d+)$/ && $want{$1} } @a[$from .. $#a];
    });
}


sub stop_client {
    my ($client) = @_;

    open my $fh, '>', $client->{stop} or die "$client->{stop}: $!";
    close $fh;

    my $gone = wait_for(sub { waitpid($client->{pid}, POSIX::WNOHANG()) > 0 });
    kill 'KILL', $client->{pid} unless $gone;

    return client_attempts($client);
}


# the state letter of a process in /proc ("T" when stopped by a signal)
sub state_of {
    my ($pid) = @_;
    my $st = Engram::proc_stat($pid);
    return $st ? $st->{state} : '';
}


# the pid in a file of the prefix, if it holds one
sub pid_in {
    my ($t, $file) = @_;
    my $text = $t->read_file($file) // '';
    return $text =~ /^(\d+)\n?$/ ? $1 : undef;
}


# USR2 to the master: waits for the new master and its workers; returns
# the new master's pid and its workers
sub upgrade {
    my ($t) = @_;

    my $old = $t->master_pid;

    ok($t->signal('USR2', $old), "USR2 is sent to the master $old");

    my $new;
    ok(wait_for(sub {
           $new = pid_in($t, 'logs/engram.pid');
           return $new && $new != $old && $t->is_master($new);
       }), 'a new master writes its pid to logs/engram.pid');

    is(pid_in($t, 'logs/engram.pid.oldbin'), $old,
       'the old master\'s pid is in logs/engram.pid.oldbin');
    is(Engram::proc_stat($new)->{ppid}, $old,
       'the new master is a child of the old one');

    my @workers;
    ok(wait_for(sub {
           @workers = $t->active_worker_pids($new);
           return @workers == 2;
       }), 'the new master starts two workers');

    return ($new, @workers);
}


subtest 'USR2, WINCH and QUIT upgrade the binary without refusing a '
        . 'connection' => sub {
    my $t = started();

    my $old = $t->master_pid;
    my @old_workers = $t->active_worker_pids;
    my $binary = (Engram::_argv($old))[0] // '';

    like(Engram::cmdline($old), qr{^engram: master process /},
         'the master was started by an absolute path');

    my $client = start_client($t->port('http'));

    my ($new, @new_workers) = upgrade($t);

    my $mark = client_attempts($client);
    ok(answered_by($client, $mark, @old_workers),
       'the old workers still answer');

    # the kernel gives a new connection to the first worker waiting on the
    # socket, and the old ones came first: stopped, they leave the new
    # workers to take connections from the same socket
    ok(pause_client($client), 'the client pauses between two attempts');
    kill 'STOP', @old_workers;

    # until a worker has really stopped it may still be woken for a new
    # connection, and would hold it while stopped
    ok(wait_for(sub { !grep { state_of($_) ne 'T' } @old_workers }),
       'the old workers are stopped');
    resume_client($client);

    $mark = client_attempts($client);
    ok(answered_by($client, $mark, @new_workers),
       'the new workers answer while the old ones are stopped');

    ok(pause_client($client), 'the client pauses again');
    kill 'CONT', @old_workers;
    ok(wait_for(sub { !grep { state_of($_) eq 'T' } @old_workers }),
       'the old workers go on');
    resume_client($client);

    $mark = client_attempts($client);
    ok(answered_by($client, $mark, @old_workers),
       'the old workers answer again once they go on');

    ok($t->signal('WINCH', $old), 'WINCH is sent to the old master');
    ok($t->wait_gone(@old_workers), 'the old workers exit');
    ok($t->owns($old), 'the old master stays');

    $mark = client_attempts($client);
    ok(answered_by($client, $mark, @new_workers),
       'the new workers answer alone');

    ok($t->signal('QUIT', $old), 'QUIT is sent to the old master');
    ok($t->wait_gone($old), 'the old master exits');
    ok(!-e $t->path('logs/engram.pid.oldbin'),
       'logs/engram.pid.oldbin is gone');
    is(pid_in($t, 'logs/engram.pid'), $new,
       'logs/engram.pid holds the new master');

    $mark = client_attempts($client);
    ok(answered_by($client, $mark, @new_workers),
       'the new workers go on answering');

    my @attempts = grep { /^(?:ok|fail)/ } stop_client($client);
    my @failed = failures(@attempts);

    is(scalar @failed, 0, 'not one of ' . @attempts . ' attempts failed')
        or diag(join "\n", @failed[0 .. ($#failed < 9 ? $#failed : 9)]);

    # the new master is a master like any other
    ok($t->signal('HUP', $new), 'HUP to the new master');
    is(scalar $t->wait_for_workers(2, exclude => \@new_workers), 2,
       'it reloads: two newer workers');

    ok($t->stop, 'engram -s quit stops it');
    ok(!-e $t->path('logs/engram.pid'), 'and the pid file is removed');
};


subtest 'USR2, WINCH, then HUP to the old master and QUIT to the new one '
        . 'roll back' => sub {
    my $t = started();

    my $old = $t->master_pid;
    my @old_workers = $t->active_worker_pids;
    my $client = start_client($t->port('http'));

    my ($new, @new_workers) = upgrade($t);

    ok($t->signal('WINCH', $old), 'WINCH is sent to the old master');
    ok($t->wait_gone(@old_workers), 'the old workers exit');

    ok($t->signal('HUP', $old), 'HUP is sent to the old master');
    my @back;
    ok(wait_for(sub {
           @back = $t->active_worker_pids($old);
           return @back == 2;
       }), 'it starts two workers again');

    ok($t->signal('QUIT', $new), 'QUIT is sent to the new master');
    ok($t->wait_gone($new, @new_workers),
       'the new master and its workers exit');

    ok(wait_for(sub { (pid_in($t, 'logs/engram.pid') // 0) == $old }),
       'logs/engram.pid holds the old master again');
    ok(!-e $t->path('logs/engram.pid.oldbin'),
       'logs/engram.pid.oldbin is gone');

    my $mark = client_attempts($client);
    ok(answered_by($client, $mark, @back), 'the old master\'s workers answer');

    my @attempts = grep { /^(?:ok|fail)/ } stop_client($client);
    my @failed = failures(@attempts);
    is(scalar @failed, 0, 'not one of ' . @attempts . ' attempts failed')
        or diag(join "\n", @failed[0 .. ($#failed < 9 ? $#failed : 9)]);

    ok($t->stop, 'engram -s quit stops the old master');
};


subtest 'when the new master exits on its own the old one takes over again'
=> sub {
    my $t = started();

    my $old = $t->master_pid;
    my @old_workers = $t->active_worker_pids;

    my ($new, @new_workers) = upgrade($t);

    ok($t->signal('WINCH', $old), 'WINCH is sent to the old master');
    ok($t->wait_gone(@old_workers), 'the old workers exit');

    ok($t->signal('TERM', $new), 'the new master is stopped (TERM)');
    ok($t->wait_gone($new, @new_workers), 'it exits with its workers');

    ok(wait_for(sub { (pid_in($t, 'logs/engram.pid') // 0) == $old }),
       'logs/engram.pid holds the old master again');

    my @back;
    ok(wait_for(sub {
           @back = $t->active_worker_pids($old);
           return @back == 2;
       }), 'which starts two workers again');

    my ($data) = Engram::http_json($t->port('http'), '/health');
    ok($data && grep({ $_ == $data->{pid} } @back),
       'and they answer /health');

    ok($t->stop, 'engram -s quit stops it');
};


done_testing;
