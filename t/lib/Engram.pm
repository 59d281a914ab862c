package Engram;

# Fixtures for the prove tests (t/*.t): one object is one engram instance
# with its own temporary prefix, started and stopped as an operator would.
#
#     use FindBin;
#     use lib "$FindBin::Bin/lib";
#     use Test::More;
#     use Engram qw(wait_for);
#
#     my $t = Engram->new;
#     $t->write_config(<<'EOF');
#     %%TEST_GLOBALS%%
#     worker_processes 2;
#     events { worker_connections 64; }
#     EOF
#     $t->start;
#     is(scalar $t->worker_pids, 2, 'two workers run');
#     $t->stop;
#     done_testing;
#
# At done_testing every instance still running is stopped, and its logs are
# checked: no [alert], [crit] or [emerg] line (except those a test allows
# with allow_log) and no sanitizer report. End the tests with done_testing,
# not with a fixed plan: the checks add tests of their own. Whatever way the
# test ends, every process of its prefixes is killed.
#
# Environment:
#     TEST_ENGRAM_BINARY  the binary (default objs/engram); a relative path
#                         is taken from the current directory, else from the
#                         top of the repository
#     TEST_ENGRAM_LEAVE   keep the temporary prefixes for a post-mortem
#
# HTTP helpers, for the tests that talk to the daemon (always on loopback):
#
#     http_get($port, $path)              one HTTP/1.0 GET, the simplest
#     http_request($port, $bytes, %opt)   any bytes in, everything the
#                                         server sent until it closed out
#     http_json($port, $path)             GET, and the body decoded
#     parse_responses($bytes)             raw responses as hashes
#     Engram::Conn->new($port, %opt)      one persistent connection:
#         ->request(GET => '/x'), ->send($bytes), ->response,
#         ->wait_closed: keep-alive, pipelining, timeouts, TLS
#
# run_command([argv], timeout => N) runs another program (openssl,
# chromium, promtool) with a deadline.
#
# Every ENGRAM_* variable of the caller is removed when this module loads,
# so that a test sees only the overrides it sets itself.

use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EEXIST);
use Exporter qw(import);
use Fcntl qw(O_CREAT O_EXCL O_WRONLY);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Test::More ();
use Test2::API qw(test2_add_callback_testing_done);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(wait_for free_port http_get http_request http_json
                    parse_responses run_command);

# how long a wait may take before it counts as a failure; waits end as soon
# as their condition holds, so a generous bound costs nothing when all is well
our $TIMEOUT = 20;

# log lines that make a test fail wherever they come from
my $SANITIZER = qr/(?:Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer
                   |runtime\ error:/x;
my $BAD_LEVEL = qr/\[(?:alert|crit|emerg)\]/;

my $TOP = abs_path(dirname(__FILE__) . '/../..');

my @INSTANCES;          # every object made by new(), for the final cleanup
my %PORT_LOCKS;         # port => lock file this process holds

delete $ENV{$_} for grep { /^ENGRAM_/ } keys %ENV;

# a signal to the test (Ctrl-C under prove) still runs the END cleanup
for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { warn "caught SIG$sig\n"; exit 1 }
        if !defined $SIG{$sig} || $SIG{$sig} eq '' || $SIG{$sig} eq 'DEFAULT';
}

test2_add_callback_testing_done(sub { _finish_all() });


###########################################################################
# the instance

sub new {
    my ($class, %opts) = @_;

    my $prefix = tempdir('engram-test-XXXXXXXX', TMPDIR => 1,
                         CLEANUP => !$ENV{TEST_ENGRAM_LEAVE});

    # workers may run as "nobody": they must reach the prefix and its logs
    chmod 0755, $prefix or die "chmod $prefix: $!";

    for my $dir ('conf', 'logs', 'run') {
        mkdir "$prefix/$dir" or die "mkdir $prefix/$dir: $!";
        chmod 0755, "$prefix/$dir";
    }

    my $self = bless {
        prefix   => $prefix,
        binary   => _binary(),
        conf     => 'conf/engram.conf',   # -c, relative to the prefix
        pid_file => 'logs/engram.pid',    # where the config puts it
        env      => {},                   # ENGRAM_* of the running instance
        sids     => {},                   # session ids of its processes
        allowed  => [],                   # log lines a test expects
        ports    => {},                   # name => port, for %%PORT_name%%
        runs     => 0,                    # numbers the run/ output files
        finished => 0,
        %opts,
    }, $class;

    push @INSTANCES, $self;

    Test::More::note("engram prefix $prefix")
        if $ENV{TEST_ENGRAM_LEAVE};

    return $self;
}


sub prefix { $_[0]{prefix} }
sub binary { $_[0]{binary} }


# the configuration file that -c names, relative to the prefix
sub conf {
    my ($self, $conf) = @_;
    $self->{conf} = $conf if defined $conf;
    return $self->{conf};
}


# the pid file the instance is expected to write, relative to the prefix
sub pid_file {
    my ($self, $file) = @_;
    $self->{pid_file} = $file if defined $file;
    return $self->{pid_file};
}


sub path {
    my ($self, $name) = @_;
    return $name if File::Spec->file_name_is_absolute($name);
    return "$self->{prefix}/$name";
}


sub _binary {
    my $bin = $ENV{TEST_ENGRAM_BINARY} // 'objs/engram';

    my @tries = File::Spec->file_name_is_absolute($bin)
        ? ($bin) : (File::Spec->rel2abs($bin), "$TOP/$bin");

    for my $try (@tries) {
        return abs_path($try) if -f $try && -x _;
    }

    die "engram binary \"$bin\" not found (tried @tries): build it with "
        . "\"./configure && make\" or set TEST_ENGRAM_BINARY\n";
}


###########################################################################
# files and the configuration

sub write_file {
    my ($self, $name, $content) = @_;

    my $path = $self->path($name);
    make_path(dirname($path), { mode => 0755 });

    open my $fh, '>', $path or die "open $path: $!";
    print {$fh} $content;
    close $fh or die "close $path: $!";

    return $path;
}


sub read_file {
    my ($self, $name) = @_;

    my $path = $self->path($name);
    open my $fh, '<', $path or return undef;
    local $/;
    my $content = <$fh>;
    close $fh;

    return $content;
}


# Writes the configuration (by default to conf/engram.conf) after replacing:
#     %%TEST_GLOBALS%%  error_log and pid in the prefix, on ONE line, so the
#                       line numbers of the text stay those of the file
#     %%PREFIX%%        the prefix directory
#     %%PORT_name%%     a free TCP port on 127.0.0.1, the same for one name
sub write_config {
    my ($self, $text, %opts) = @_;

    $text =~ s/%%TEST_GLOBALS%%/$self->test_globals/ge;
    $text =~ s/%%PREFIX%%/$self->{prefix}/g;
    $text =~ s/%%PORT_(\w+)%%/$self->port($1)/ge;

    return $self->write_file($opts{file} // $self->{conf}, $text);
}


sub test_globals {
    my ($self) = @_;
    return "error_log logs/error.log info; pid $self->{pid_file};";
}


# a free port kept for this instance under a name
sub port {
    my ($self, $name) = @_;
    return $self->{ports}{$name} //= free_port();
}


###########################################################################
# running the binary

# Runs engram to completion with -p PREFIX -c CONF and the given arguments.
# A hash ref first holds options: bare => 1 leaves out -p and -c, conf =>
# another -c, env => { ENGRAM_X => value } (default: the environment the
# instance was started with), timeout. Returns a hash ref: exit, signal,
# stdout, stderr, timed_out. The output stays in run/ for the final checks.
sub run {
    my ($self, @args) = @_;
    my %opts = ref $args[0] eq 'HASH' ? %{ shift @args } : ();

    my $n = ++$self->{runs};
    my $out = "$self->{prefix}/run/$n.stdout";
    my $err = "$self->{prefix}/run/$n.stderr";

    unshift @args, $self->_location_args($opts{conf}) unless $opts{bare};

    my $pid = $self->_spawn(\@args, $opts{env} // $self->{env}, $out, $err);

    my %r = (pid => $pid);
    my $deadline = time + ($opts{timeout} // $TIMEOUT);

    while (1) {
        my $rc = waitpid($pid, WNOHANG);

        if ($rc == $pid) {
            $r{exit} = $? >> 8;
            $r{signal} = $? & 127;
            last;
        }

        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $r{timed_out} = 1;
            $r{exit} = -1;
            $r{signal} = 9;
            last;
        }

        sleep 0.01;
    }

    # its session ended with it (a daemon it started has a session of its
    # own, found by the prefix on its command line)
    delete $self->{sids}{$pid};

    $r{stdout} = $self->read_file($out) // '';
    $r{stderr} = $self->read_file($err) // '';

    return \%r;
}


sub _location_args {
    my ($self, $conf) = @_;
    return ('-p', "$self->{prefix}/", '-c', $conf // $self->{conf});
}


# fork + exec in a session of its own, output to files
sub _spawn {
    my ($self, $args, $env, $out, $err) = @_;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        eval {
            POSIX::setsid();

            # no descriptor of the test (or of whatever started prove) may
            # live on in a daemon
            opendir my $dh, '/proc/self/fd' or die "/proc/self/fd: $!";
            my @fds = grep { /^\d+$/ && $_ > 2 } readdir $dh;
            closedir $dh;
            POSIX::close($_) for @fds;

            open STDIN, '<', '/dev/null' or die "stdin: $!";
            open STDOUT, '>>', $out or die "$out: $!";
            open STDERR, '>>', $err or die "$err: $!";

            while (my ($k, $v) = each %$env) {
                if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
            }

            exec { $self->{binary} } $self->{binary}, @$args
                or die "exec $self->{binary}: $!";
        };
        print STDERR $@ if $@;
        POSIX::_exit(127);
    }

    $self->{sids}{$pid} = 1;
    return $pid;
}


###########################################################################
# starting and stopping

# Starts the instance as the configuration says (daemon or foreground) and
# waits for its pid file and its workers. Options:
#     env      => { ENGRAM_X => value }  overrides, kept for -s commands
#     args     => [ ... ]                more command-line arguments
#     workers  => N                      workers to wait for (default: the
#                                        configured worker_processes)
#     single   => 1                      master_process off: no workers
#                                        (found in the file, -g and the
#                                        environment unless given)
#     wait     => 'pid'                  return as soon as the pid file
#                                        names a live process
# Dies, with the output and the log, if the instance does not come up.
sub start {
    my ($self, %opts) = @_;

    die "instance already started\n" if $self->{started};

    $self->{env} = { %{ $opts{env} // {} } };

    my @args = ($self->_location_args, @{ $opts{args} // [] });
    my $out = "$self->{prefix}/run/start.stdout";
    my $err = "$self->{prefix}/run/start.stderr";

    my $pid = $self->_spawn(\@args, $self->{env}, $out, $err);

    $self->{started} = 1;
    $self->{child} = $pid;
    delete $self->{child_status};

    my $master = wait_for(sub {
        $self->_reap_child;

        my $m = $self->master_pid;
        return $m if $m && pid_alive($m);

        # the process gave up before it wrote a pid file
        return -1 if defined $self->{child_status}
                     && $self->{child_status} != 0;
        return 0;
    });

    if (!$master || $master < 0) {
        my $why = !$master ? "no pid file $self->{pid_file}"
                           : "exit status $self->{child_status}";
        $self->_kill_all;
        $self->{started} = 0;
        die "engram did not start ($why)\n" . $self->_post_mortem($err);
    }

    $self->{sids}{$master} = 1;
    $self->{master} = $master;

    # master_process off: one process, no workers
    return $self if $opts{single} // $self->_single_process(@args);

    return $self if ($opts{wait} // '') eq 'pid';

    # the master takes its title once it has blocked the signals it
    # handles, just before it starts the workers
    my $want = $opts{workers} // $self->_configured_workers;

    my $ok = wait_for(sub {
        return 0 unless $self->is_master($master);
        my @w = $self->active_worker_pids;
        return defined $want ? @w == $want : @w > 0;
    });

    if (!$ok) {
        my $n = $self->active_worker_pids;
        $self->_kill_all;
        $self->{started} = 0;
        die "engram started $n worker(s), not " . ($want // 'any') . "\n"
            . $self->_post_mortem($err);
    }

    return $self;
}


# the running master (or single process) pid from the pid file
sub master_pid {
    my ($self) = @_;

    my $content = $self->read_file($self->{pid_file});
    return undef unless defined $content && $content =~ /^(\d+)\n?$/;

    return $1 + 0;
}


# Stops the instance with "engram -s quit" (how => 'stop' for a fast stop),
# run with the environment it was started with, and waits until no process
# of its prefix is left; if -s fails (a test left a broken config behind),
# the master gets the signal directly. Returns true when everything
# stopped; else kills what is left and returns false.
sub stop {
    my ($self, %opts) = @_;

    my $how = $opts{how} // 'quit';
    my $master = $self->master_pid // $self->{master};

    # pids are reused: signal only a process that is still this instance's
    if ($master && $self->owns($master)) {
        my $r = $self->run('-s', $how);

        if ($r->{exit} != 0) {
            Test::More::diag("engram -s $how failed, signalling $master: "
                             . $r->{stderr});
            kill($how eq 'quit' ? 'QUIT' : 'TERM', $master);
        }
    }

    my $ok = wait_for(sub {
        $self->_reap_child;
        return !$self->processes;
    }, $opts{timeout});

    if (!$ok) {
        Test::More::diag("still running after -s $how: "
                         . join(' ', $self->processes));
        $self->_kill_all;
    }

    $self->_reap_child;
    $self->{started} = 0;
    $self->{sids} = {};
    delete $self->{master};

    return $ok;
}


# Sends a signal (name or number) to the master, or to another process of
# the instance; returns kill's result, false if the process is not one of
# the instance (any more).
sub signal {
    my ($self, $sig, $pid) = @_;

    $pid //= $self->master_pid // $self->{master};
    return 0 unless $pid && $self->owns($pid);

    return kill $sig, $pid;
}


# whether a pid is a live process of this instance
sub owns {
    my ($self, $pid) = @_;
    return scalar grep { $_ == $pid } $self->processes;
}


# the process we forked: reap it once it exits so that it is no zombie
sub _reap_child {
    my ($self) = @_;

    my $pid = $self->{child};
    return unless $pid && !defined $self->{child_status};

    if (waitpid($pid, WNOHANG) == $pid) {
        $self->{child_status} = $?;

        # a daemon leaves the session of the process that started it: that
        # session is empty now, and its number free for another one to take
        delete $self->{sids}{$pid} if $pid != ($self->{master} // 0);
    }
}


# waits for the child we forked (a foreground instance) to exit: its status
sub wait_child {
    my ($self, $timeout) = @_;

    wait_for(sub {
        $self->_reap_child;
        return defined $self->{child_status};
    }, $timeout);

    return $self->{child_status};
}


# whether the instance runs as one process (master_process off), from the
# environment, the -g arguments and the configuration file (its includes are
# not read: pass single => 1 to start() when they say it)
sub _single_process {
    my ($self, @args) = @_;

    my $env = $self->{env}{ENGRAM_MASTER_PROCESS};
    return $env eq 'off' if defined $env && $env ne '';

    my $text = join "\n", $self->read_file($self->{conf}) // '', @args;
    $text =~ s/#.*$//mg;

    return $text =~ /(?:^|[;{\s])master_process\s+off\s*;/;
}


sub _configured_workers {
    my ($self) = @_;

    my $n = $self->{env}{ENGRAM_WORKER_PROCESSES};

    if (!defined $n || $n eq '') {
        my $conf = $self->read_file($self->{conf}) // '';
        ($n) = $conf =~ /^\s*worker_processes\s+(\S+?)\s*;/m;
    }

    return 1 unless defined $n;
    return $n + 0 if $n =~ /^\d+$/;
    return cpu_count() if $n eq 'auto';
    return undef;
}


sub cpu_count {
    open my $fh, '<', '/proc/cpuinfo' or return undef;
    my $n = grep { /^processor\s*:/ } <$fh>;
    return $n || undef;
}


sub _post_mortem {
    my ($self, $stderr_file) = @_;

    my $text = '';
    my $stderr = $self->read_file($stderr_file) // '';
    $text .= "stderr:\n$stderr" if $stderr ne '';

    my $log = $self->error_log;
    if ($log ne '') {
        my @lines = split /\n/, $log;
        splice @lines, 0, -20 if @lines > 20;
        $text .= "error log (tail):\n" . join("\n", @lines) . "\n";
    }

    return $text;
}


###########################################################################
# processes

# The state of a process from /proc: a hash of pid, state, ppid, pgrp and
# session, or undef if there is no such process.
sub proc_stat {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/stat" or return undef;
    my $line = <$fh>;
    close $fh;

    return undef unless defined $line;

    # the command name is in parentheses and may itself hold any character
    my ($rest) = $line =~ /\)\s+(.*)$/s or return undef;
    my ($state, $ppid, $pgrp, $session) = split ' ', $rest;

    return { pid => $pid, state => $state, ppid => $ppid,
             pgrp => $pgrp, session => $session };
}


# true for a process that runs; a zombie has finished
sub pid_alive {
    my ($pid) = @_;

    my $st = proc_stat($pid);
    return $st && $st->{state} !~ /^[ZXx]$/;
}


# the arguments in /proc/PID/cmdline; nothing for a zombie or no process
sub _argv {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/cmdline" or return;
    local $/;
    my $cmdline = <$fh> // '';
    close $fh;

    $cmdline =~ s/\0+$//;

    return split /\0/, $cmdline;
}


# /proc/PID/cmdline with its arguments joined by spaces
sub cmdline {
    my ($pid) = @_;
    return join ' ', _argv($pid);
}


# the first argument in /proc/PID/cmdline, which holds the title a process
# set for itself ("engram: worker process"); '' if there is none
sub title {
    my ($pid) = @_;
    return (_argv($pid))[0] // '';
}


sub is_master {
    my ($self, $pid) = @_;
    return (title($pid) // '') =~ /^engram: master process/;
}


sub _all_stats {
    opendir my $dh, '/proc' or die "/proc: $!";
    my @stats = grep { defined }
                map { proc_stat($_) } grep { /^\d+$/ } readdir $dh;
    closedir $dh;
    return @stats;
}


# Every live process of this instance: those started from its prefix and
# those in their sessions (workers keep the master's session even when the
# master is gone). Zombies are left out, and so is anything that is not
# engram, should a session id ever be reused.
sub processes {
    my ($self) = @_;

    my @stats = grep { $_->{state} !~ /^[ZXx]$/ } _all_stats();
    my $mark = "-p $self->{prefix}/";

    for my $st (@stats) {
        $self->{sids}{ $st->{session} } = 1
            if index(cmdline($st->{pid}) // '', $mark) >= 0;
    }

    my @pids = sort { $a <=> $b }
               map { $_->{pid} }
               grep {
                   my $title = title($_->{pid}) // '';
                   $self->{sids}{ $_->{session} } && $_->{pid} != $$
                   && ($title =~ /^engram:/ || $title eq $self->{binary})
               } @stats;

    # in scalar context: how many
    return @pids;
}


# the live children of a process, sorted; their number in scalar context
sub children {
    my ($self, $parent) = @_;

    my @pids = sort { $a <=> $b }
               map { $_->{pid} }
               grep { $_->{ppid} == $parent && $_->{state} !~ /^[ZXx]$/ }
               _all_stats();

    return @pids;
}


# workers of the master: its children titled "engram: worker process",
# including those shutting down after a reload
sub worker_pids {
    my ($self, $master) = @_;

    $master //= $self->master_pid or return ();

    return grep { (title($_) // '') =~ /^engram: worker process/ }
           $self->children($master);
}


# the workers that are not shutting down
sub active_worker_pids {
    my ($self, $master) = @_;
    return grep { (title($_) // '') eq 'engram: worker process' }
           $self->worker_pids($master);
}


# Waits until exactly $n workers are active and none of them is in
# "exclude"; returns their pids, or nothing on timeout.
sub wait_for_workers {
    my ($self, $n, %opts) = @_;

    my %old = map { $_ => 1 } @{ $opts{exclude} // [] };
    my @pids;

    my $ok = wait_for(sub {
        @pids = $self->active_worker_pids;
        return @pids == $n && !grep { $old{$_} } @pids;
    }, $opts{timeout});

    return @pids if $ok;

    Test::More::diag("waited for $n workers; the processes now:\n"
                     . $self->_process_table
                     . $self->_post_mortem(
                           "$self->{prefix}/run/start.stderr"));
    return ();
}


# pid, parent, state and title of every process of the instance
sub _process_table {
    my ($self) = @_;

    return join '', map {
        my $st = proc_stat($_) // {};
        sprintf "%7d %7d %s %s\n", $_, $st->{ppid} // 0, $st->{state} // '?',
                title($_) // '';
    } $self->processes;
}


# waits until none of the pids is a process of the instance any more (a
# pid that another process took counts as gone)
sub wait_gone {
    my ($self, @pids) = @_;

    return wait_for(sub {
        my %live = map { $_ => 1 } $self->processes;
        return !grep { $live{$_} } @pids;
    });
}


sub _kill_all {
    my ($self) = @_;

    for (1 .. 50) {
        my @pids = $self->processes or last;
        kill 'KILL', @pids;
        $self->_reap_child;
        sleep 0.02;
    }

    $self->_reap_child;
}


###########################################################################
# logs

# the error log as text (another file of logs/ by name)
sub error_log {
    my ($self, $name) = @_;
    return $self->read_file($name // 'logs/error.log') // '';
}


# the size of the error log: give it to wait_for_log as "from" to look
# only at what comes after
sub log_offset {
    my ($self, $name) = @_;
    return (-s $self->path($name // 'logs/error.log')) || 0;
}


# the lines of the error log that match, from an offset
sub log_lines {
    my ($self, $re, %opts) = @_;

    my $log = $self->error_log($opts{file});
    $log = length $log > ($opts{from} // 0) ? substr($log, $opts{from} // 0)
                                            : '';

    return grep { /$re/ } split /\n/, $log;
}


# waits until a line of the error log matches; returns the first such line
sub wait_for_log {
    my ($self, $re, %opts) = @_;

    my $line;
    wait_for(sub {
        ($line) = $self->log_lines($re, %opts);
        return defined $line;
    }, $opts{timeout});

    return $line;
}


# Tells the final check that log lines matching $re are expected (a test of
# a broken reload expects its [emerg]).
sub allow_log {
    my ($self, @res) = @_;
    push @{ $self->{allowed} }, @res;
    return $self;
}


# every file the final checks read: logs/ with what a test moved there and
# what start() caught on stderr before the daemon had its log, then the
# output of every run()
sub _log_files {
    my ($self) = @_;

    my (@logs, @outputs);

    for my $dir ('logs', 'run') {
        opendir my $dh, "$self->{prefix}/$dir" or next;
        for my $f (sort grep { !/^\./ } readdir $dh) {
            my $path = "$self->{prefix}/$dir/$f";
            next unless -f $path;
            next if $dir eq 'logs' && $f =~ /\.pid(?:\.oldbin)?$/;
            my $is_log = $dir eq 'logs' || $f =~ /^start\./;
            push @{ $is_log ? \@logs : \@outputs }, $path;
        }
        closedir $dh;
    }

    return (\@logs, \@outputs);
}


# the checks every test gets: no alert/crit/emerg in the logs unless the
# test allowed the line, no sanitizer report anywhere
sub check_logs {
    my ($self) = @_;

    my ($logs, $outputs) = $self->_log_files;
    my (@bad, @sanitizer);

    for my $file (@$logs, @$outputs) {
        open my $fh, '<', $file or next;
        my $is_log = grep { $_ eq $file } @$logs;

        while (my $line = <$fh>) {
            chomp $line;
            push @sanitizer, "$file: $line" if $line =~ $SANITIZER;

            # the output of run() holds the [emerg] of a config a test
            # broke on purpose; only what the daemon said counts here
            next unless $is_log && $line =~ $BAD_LEVEL;
            next if grep { $line =~ $_ } @{ $self->{allowed} };
            push @bad, "$file: $line";
        }

        close $fh;
    }

    my $tag = (File::Spec->splitdir($self->{prefix}))[-1];

    Test::More::ok(!@bad, "error log has no unexpected alert, crit or "
                          . "emerg line ($tag)")
        or Test::More::diag(join "\n", @bad);

    Test::More::ok(!@sanitizer, "no sanitizer report ($tag)")
        or Test::More::diag(join "\n", @sanitizer);
}


###########################################################################
# the end of a test

# at done_testing: stop what still runs, then check the logs
sub _finish_all {
    for my $t (@INSTANCES) {
        next if $t->{finished} || !-d $t->{prefix};

        if ($t->processes) {
            $t->stop
                or Test::More::diag('the instance did not stop cleanly');
        }

        $t->check_logs;
        $t->{finished} = 1;
    }
}


END {
    my $status = $?;

    for my $t (@INSTANCES) {

        # the test died before done_testing: show what the daemon said
        if (!$t->{finished} && $t->{started} && -d $t->{prefix}) {
            Test::More::diag($t->_post_mortem(
                "$t->{prefix}/run/start.stderr"));
        }

        $t->_kill_all;
    }

    unlink values %PORT_LOCKS;

    $? = $status;
}


###########################################################################
# helpers without an instance

# Calls $cond until it returns true or the timeout (seconds) ends; returns
# the last value of $cond. Polls fast at first, then every 50 ms.
sub wait_for {
    my ($cond, $timeout) = @_;

    my $deadline = time + ($timeout // $TIMEOUT);
    my $pause = 0.005;

    while (1) {
        my $v = $cond->();
        return $v if $v;
        return $v if time > $deadline;

        sleep $pause;
        $pause = 0.05 if ($pause *= 2) > 0.05;
    }
}


# A TCP (and UDP) port on 127.0.0.1 that nothing uses. Tests run in
# parallel: a lock file in the temporary directory keeps two of them from
# taking the same port before either has bound it.
sub free_port {
    my $dir = File::Spec->tmpdir . '/engram-test-ports';

    if (!-d $dir) {
        mkdir $dir;
        chmod 01777, $dir;
    }

    for (1 .. 100) {
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => 0,
            Proto     => 'tcp',
            Listen    => 1,
        ) or die "no free port: $!";

        my $port = $sock->sockport;

        my $udp = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'udp',
        );

        close $sock;
        next unless $udp;
        close $udp;

        return $port unless -d $dir && -w _;
        return $port if _lock_port($dir, $port);
    }

    die "no free port after 100 tries\n";
}


sub _lock_port {
    my ($dir, $port) = @_;

    my $lock = "$dir/$port";

    for (1 .. 2) {
        if (sysopen my $fh, $lock, O_CREAT | O_EXCL | O_WRONLY, 0644) {
            print {$fh} "$$\n";
            close $fh;
            $PORT_LOCKS{$port} = $lock;
            return 1;
        }

        return 0 unless $! == EEXIST;

        # a lock whose test has gone is stale
        open my $fh, '<', $lock or next;
        my $owner = <$fh> // '';
        close $fh;

        return 0 if $owner =~ /^(\d+)/ && (kill(0, $1) || $!{EPERM});
        unlink $lock;
    }

    return 0;
}


# "GET $path HTTP/1.0" to 127.0.0.1:$port. Returns (status, body, headers)
# in list context, the whole response in scalar context; nothing if the
# connection failed or timed out. Options: host, timeout.
sub http_get {
    my ($port, $path, %opts) = @_;

    my $timeout = $opts{timeout} // 10;
    my $host = $opts{host} // 'localhost';

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => $timeout,
    ) or return;

    $sock->autoflush(1);
    print {$sock} "GET $path HTTP/1.0\r\nHost: $host\r\n\r\n" or return;

    my $response = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($sock);

    while (1) {
        my $left = $deadline - time;
        return if $left <= 0;
        next unless $sel->can_read($left);

        my $n = sysread($sock, my $buf, 65536);
        return unless defined $n;
        last if $n == 0;
        $response .= $buf;
    }

    close $sock;

    return $response unless wantarray;

    my ($head, $body) = split /\r\n\r\n/, $response, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\d\.\d\s+(\d{3})};

    return ($status, $body // '', $head);
}


# One HTTP request on a connection of its own: writes $bytes to
# 127.0.0.1:$port and reads until the server closes or the timeout ends.
# In scalar context the bytes the server sent (undef if the connection
# failed); in list context the responses in them (see parse_responses).
# Options: those of Engram::Conn->new, and head => 1 for answers to HEAD.
sub http_request {
    my ($port, $bytes, %opts) = @_;

    my $c = Engram::Conn->new($port, %opts) or return;
    $c->send($bytes);
    $c->wait_closed($opts{timeout});

    my $raw = $c->buffer;
    $c->close;

    return $raw unless wantarray;
    return parse_responses($raw, head => $opts{head});
}


# GET $path with "Connection: close"; in list context the body decoded as
# JSON (undef when it is not JSON) and the response; in scalar context the
# body decoded. Options: those of Engram::Conn->new.
sub http_json {
    my ($port, $path, %opts) = @_;

    my $c = Engram::Conn->new($port, %opts) or return;
    my $res = $c->request(GET => $path, headers => ['Connection: close']);
    $c->close;

    return unless $res;

    require JSON::PP;
    my $data = eval { JSON::PP->new->decode($res->{body}) };

    return wantarray ? ($data, $res) : $data;
}


# Splits raw bytes into the responses they hold, in order. Each is a hash:
#     protocol, status, reason  of the status line
#     headers                   lower-case name => value (a repeated
#                               header: its values joined by ", ")
#     header_lines              [name, value] in the order sent
#     head, body                the raw header block and the body
# A response without Content-Length runs to the end of the bytes. A
# trailing part that is not a whole response is left out. Options: head
# => 1 when the requests were HEAD (the responses have no body).
sub parse_responses {
    my ($bytes, %opts) = @_;

    my @responses;

    while (length $bytes) {
        my $r = _parse_response(\$bytes, head => $opts{head}, eof => 1)
            or last;
        push @responses, $r;
    }

    return @responses;
}


# takes one whole response off the front of $$buf, or returns undef and
# leaves the buffer as it was
sub _parse_response {
    my ($buf, %opts) = @_;

    my $end = index $$buf, "\r\n\r\n";
    return undef if $end < 0;

    my $head = substr $$buf, 0, $end + 4;
    my ($status_line, @lines) = split /\r\n/, substr($head, 0, $end);

    my ($protocol, $status, $reason) =
        ($status_line // '') =~ m{^(HTTP/\d\.\d) (\d{3})(?: (.*))?$}
        or return undef;

    my (%headers, @header_lines);

    for my $line (@lines) {
        my ($name, $value) = $line =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/
            or next;
        push @header_lines, [$name, $value];
        my $key = lc $name;
        $headers{$key} = exists $headers{$key}
                         ? "$headers{$key}, $value" : $value;
    }

    my $body_len;

    if ($opts{head} || $status =~ /^(?:1\d\d|204|304)$/) {
        $body_len = 0;

    } elsif (defined $headers{'content-length'}) {
        $body_len = $headers{'content-length'};

    } elsif ($opts{eof}) {
        $body_len = length($$buf) - length($head);

    } else {
        return undef;
    }

    return undef if length($$buf) < length($head) + $body_len;

    my $body = substr $$buf, length $head, $body_len;
    substr($$buf, 0, length($head) + $body_len) = '';

    return {
        protocol     => $protocol,
        status       => $status + 0,
        reason       => $reason // '',
        headers      => \%headers,
        header_lines => \@header_lines,
        head         => $head,
        body         => $body,
    };
}


# Runs a program other than engram (openssl, chromium, promtool) to
# completion, in a process group of its own that is killed if it outlasts
# the timeout (default $TIMEOUT). Returns a hash ref: exit, signal, stdout,
# stderr, timed_out. Options: timeout, stdin (a file to read from).
sub run_command {
    my ($argv, %opts) = @_;

    my $dir = tempdir('engram-cmd-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    my ($out, $err) = ("$dir/stdout", "$dir/stderr");

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDIN, '<', $opts{stdin} // '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        { exec { $argv->[0] } @$argv; }
        POSIX::_exit(127);
    }

    my %r;
    my $deadline = time + ($opts{timeout} // $TIMEOUT);

    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            @r{qw(exit signal)} = ($? >> 8, $? & 127);
            last;
        }

        if (time > $deadline) {
            kill 'KILL', -$pid;
            waitpid($pid, 0);
            @r{qw(exit signal timed_out)} = (-1, 9, 1);
            last;
        }

        sleep 0.02;
    }

    # what the program left running in its group goes with it
    kill 'KILL', -$pid;

    for my $k ('stdout', 'stderr') {
        open my $fh, '<', "$dir/$k" or next;
        local $/;
        $r{$k} = <$fh> // '';
        close $fh;
    }

    return \%r;
}


###########################################################################
# one persistent HTTP connection

package Engram::Conn;

# A client connection to the daemon for tests that look at what happens on
# one connection over time: keep-alive, pipelining, slow clients, timeouts,
# TLS. Every read has a deadline; nothing blocks for longer.
#
#     my $c = Engram::Conn->new($port);
#     my $res = $c->request(GET => '/health');      # a hash, see
#     is($res->{status}, 200);                      # Engram::parse_responses
#     ok($c->wait_closed(5), 'the server closed the connection');

use strict;
use warnings;

use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use IO::Select;
use IO::Socket::IP;
use Socket qw(IPPROTO_TCP TCP_NODELAY SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(sleep time);

our $ERROR = '';    # why the last new() failed


# Connects to $port. Options:
#     host     the address to connect to (default 127.0.0.1; "::1" works)
#     local    the local address to connect from (say 127.0.0.2)
#     ssl      1 or a hash of IO::Socket::SSL options: TLS, with the
#              certificate not verified unless the options say so
#     rcvbuf   SO_RCVBUF before connecting, for a client that reads slowly
#     timeout  seconds for connecting and for each wait (default 10)
# Returns undef, with the reason in $Engram::Conn::ERROR, on failure.
sub new {
    my ($class, $port, %opts) = @_;

    my $timeout = $opts{timeout} // 10;
    my %args = (
        PeerHost => $opts{host} // '127.0.0.1',
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => $timeout,
    );

    $args{LocalHost} = $opts{local} if defined $opts{local};
    $args{Sockopts} = [[SOL_SOCKET, SO_RCVBUF, $opts{rcvbuf}]]
        if $opts{rcvbuf};

    my $sock;

    if ($opts{ssl}) {
        require IO::Socket::SSL;

        $sock = IO::Socket::SSL->new(
            %args,
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
            SSL_hostname    => 'localhost',
            %{ ref $opts{ssl} ? $opts{ssl} : {} },
        );

        $ERROR = IO::Socket::SSL::errstr() || "$!" unless $sock;

    } else {
        $sock = IO::Socket::IP->new(%args);
        $ERROR = "$!" unless $sock;
    }

    return undef unless $sock;

    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    $sock->blocking(0);

    return bless {
        sock    => $sock,
        ssl     => $opts{ssl} ? 1 : 0,
        buf     => '',
        eof     => 0,
        timeout => $timeout,
    }, $class;
}


sub socket { $_[0]{sock} }

# what was read and not yet taken as a response
sub buffer { $_[0]{buf} }

# whether the server closed the connection (or reset it)
sub eof { $_[0]{eof} }


# Writes all the bytes; with chunk => N, N bytes per write() and a pause of
# "pause" seconds (default 1 ms) between writes, so that the server sees
# them arrive in pieces. Returns false if the server closed the connection
# first.
sub send {
    my ($self, $bytes, %opts) = @_;

    local $SIG{PIPE} = 'IGNORE';

    my $chunk = $opts{chunk} || length($bytes) || 1;
    my $pause = $opts{pause} // 0.001;
    my $deadline = time + ($opts{timeout} // $self->{timeout});
    my $sel = IO::Select->new($self->{sock});
    my $off = 0;

    while ($off < length $bytes) {
        my $piece = substr $bytes, $off, $chunk;
        my $done = 0;

        while ($done < length $piece) {
            return 0 if time > $deadline;

            my $n = syswrite($self->{sock}, $piece, length($piece) - $done,
                             $done);

            if (!defined $n) {
                return 0 unless $! == EAGAIN || $! == EWOULDBLOCK
                                || $! == EINTR;
                $sel->can_write(0.05);
                next;
            }

            $done += $n;
        }

        $off += length $piece;
        sleep $pause if $opts{chunk} && $off < length $bytes;
    }

    return 1;
}


# Sends one request and reads its response. Options:
#     headers  more header lines, ["Name: value", ...]
#     host     the Host value (default "localhost"; undef: no Host line)
#     version  "1.1" (default) or "1.0"
#     body     a body, sent with its Content-Length
#     timeout  seconds to wait for the response
# Returns the response (see Engram::parse_responses), or undef if none
# came.
sub request {
    my ($self, $method, $path, %opts) = @_;

    $self->send(request_bytes($method, $path, %opts)) or return undef;

    return $self->response(head => $method eq 'HEAD',
                           timeout => $opts{timeout});
}


# the bytes of a request, as request() sends them
sub request_bytes {
    my ($method, $path, %opts) = @_;

    my $version = $opts{version} // '1.1';
    my $text = "$method $path HTTP/$version\r\n";

    my $host = exists $opts{host} ? $opts{host} : 'localhost';
    $text .= "Host: $host\r\n" if defined $host;
    $text .= "$_\r\n" for @{ $opts{headers} // [] };

    if (defined $opts{body}) {
        $text .= 'Content-Length: ' . length($opts{body}) . "\r\n";
    }

    return "$text\r\n" . ($opts{body} // '');
}


# The next whole response, or undef if the server closed the connection
# or the timeout ended first. head => 1 for the answer to HEAD.
sub response {
    my ($self, %opts) = @_;

    my $deadline = time + ($opts{timeout} // $self->{timeout});

    while (1) {
        my $r = Engram::_parse_response(\$self->{buf}, head => $opts{head},
                                        eof => $self->{eof});
        return $r if $r;
        return undef if $self->{eof};
        defined $self->_fill($deadline) or return undef;
    }
}


# Reads until the server closes the connection: true if it did within the
# timeout (default: the connection's), false otherwise. Whatever arrives
# meanwhile is kept in buffer().
sub wait_closed {
    my ($self, $timeout) = @_;

    my $deadline = time + ($timeout // $self->{timeout});

    while (!$self->{eof}) {
        defined $self->_fill($deadline) or return 0;
    }

    return 1;
}


# Reads what is there, waiting until the deadline: 1 when bytes came, 0 at
# the end of the stream, undef at the deadline.
sub _fill {
    my ($self, $deadline) = @_;

    my $sock = $self->{sock};
    my $sel = IO::Select->new($sock);

    while (1) {
        return 0 if $self->{eof};

        if (!($self->{ssl} && $sock->pending)) {
            my $left = $deadline - time;
            return undef if $left <= 0;
            $sel->can_read($left > 0.05 ? 0.05 : $left) or next;
        }

        my $n = sysread($sock, my $chunk, 65536);

        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;

            # a reset ends the stream as a close does
            $self->{error} = "$!";
            $self->{eof} = 1;
            return 0;
        }

        if ($n == 0) {
            $self->{eof} = 1;
            return 0;
        }

        $self->{buf} .= $chunk;
        return 1;
    }
}


sub close {
    my ($self) = @_;

    if ($self->{sock}) {
        $self->{sock}->close;
        delete $self->{sock};
    }
}


sub DESTROY { $_[0]->close }


1;


###########################################################################
# cluster mode, for the t/cluster_*.t tests

package Engram;

# Each node of a test cluster is an instance with its gossip socket on a
# loopback address of its own (all of 127.0.0.0/8 is loopback on Linux)
# and the port named "gossip", and HTTP on 127.0.0.1 and the port named
# "http":
#
#     my @n = map { Engram->new } 0 .. 2;
#     $n[$_]->write_cluster_config(id => "n$_", ip => '127.0.0.' . (11 + $_),
#                                  seeds => [$n[0]]) for 0 .. 2;
#     $_->start for @n;
#     wait_for(sub { keys %{ cluster_members($n[2]->port('http')) // {} }
#                    == 3 });

# SWIM timings of a test cluster unless its test sets them: fast, so that
# tests wait little; no test asserts on them
our %CLUSTER_TIMINGS = (
    probe_interval      => '200ms',
    probe_timeout       => '100ms',
    gossip_interval     => '50ms',
    suspicion_mult      => 2,
    push_pull_interval  => '2s',
    join_retry_interval => '200ms',
);


# Writes the configuration of a cluster node: one worker, HTTP with
# /cluster/members, /metrics and /health, and a cluster block. Options:
#     id       node_id (default "node")
#     ip       the loopback address of the gossip socket (kept for later
#              calls; default 127.0.0.1)
#     seeds    [instance or "ip:port", ...]: an instance stands for its
#              gossip address
#     tags     "k=v k=v"
#     cluster  more directives for the block; a timing set here replaces
#              the one of %CLUSTER_TIMINGS
#     main     more top-level directives
#     block    0: no cluster block at all
sub write_cluster_config {
    my ($self, %opts) = @_;

    $self->{gossip_ip} = $opts{ip} // $self->{gossip_ip} // '127.0.0.1';

    my $extra = $opts{cluster} // '';
    my $block = '';

    if ($opts{block} // 1) {
        my @seeds = map { ref $_ ? $_->gossip_addr : $_ }
                    @{ $opts{seeds} // [] };

        $block = "cluster {\n    node_id " . ($opts{id} // 'node') . ";\n"
                 . '    listen ' . $self->gossip_addr . ";\n";
        $block .= "    seeds @seeds;\n" if @seeds;
        $block .= "    tags $opts{tags};\n" if defined $opts{tags};

        for my $k (sort keys %CLUSTER_TIMINGS) {
            $block .= "    $k $CLUSTER_TIMINGS{$k};\n"
                unless $extra =~ /(?:^|[;\s])$k\s/;
        }

        $block .= "    $extra\n}\n";
    }

    my $main = $opts{main} // '';

    return $self->write_config(<<"END");
%%TEST_GLOBALS%%
worker_processes 1;
$main
events { worker_connections 64; }
$block
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /cluster/discovery/health { discovery_health; }
        location = /metrics { metrics; }
        location = /health { health; }
    }
}
END
}


# GET /cluster/discovery/health of an instance, decoded; undef on failure
sub discovery_health {
    my ($self) = @_;
    my ($data) = http_json($self->port('http'), '/cluster/discovery/health');
    return $data;
}


# "ip:port" of the instance's gossip socket, as write_cluster_config puts it
sub gossip_addr {
    my ($self) = @_;
    return ($self->{gossip_ip} // '127.0.0.1') . ':' . $self->port('gossip');
}


# the cluster process of the running instance: the child of its master
# with that title, undef if there is none
sub cluster_pid {
    my ($self) = @_;

    my $master = $self->master_pid or return undef;
    my ($pid) = grep { title($_) =~ /^engram: cluster process/ }
                $self->children($master);

    return $pid;
}


# Kills every process of the instance with signal 9, as the crash of its
# host would; true once they are all gone.
sub kill9 {
    my ($self) = @_;

    $self->_kill_all;

    my $gone = !$self->processes;
    $self->{started} = 0 if $gone;

    return $gone;
}


# GET /cluster/members on 127.0.0.1:$port, with a query string if given
# ("state=alive"): a hash ref of the members by id, undef if the answer is
# no member list
sub cluster_members {
    my ($port, $query) = @_;

    my $data = http_json($port, '/cluster/members'
                                . (defined $query ? "?$query" : ''));

    return undef unless ref $data eq 'HASH'
                        && ref $data->{members} eq 'ARRAY';

    return { map { $_->{id} => $_ } @{ $data->{members} } };
}


# GET /metrics on 127.0.0.1:$port: a hash ref of every sample, by its name
# and labels as written ('engram_members{state="alive"}' => 3); undef if
# the request failed. Options: timeout (default 10 s).
sub metrics {
    my ($port, %opts) = @_;

    my ($status, $body) = http_get($port, '/metrics', %opts);
    return undef unless ($status // 0) == 200;

    my %samples;

    for my $line (split /\r?\n/, $body) {
        next if $line =~ /^#/;
        my ($key, $value) = $line =~ /^(\w+(?:\{.*\})?)\s+(\S+)$/ or next;
        $samples{$key} = $value;
    }

    return \%samples;
}


# "engram -t" of a node whose cluster block holds $directive (env => {}
# for its environment): the result of run(), and "FILE:LINE" of the
# directive, which an error must name
sub cluster_conf_test {
    my ($directive, %opts) = @_;

    my $t = Engram->new;
    $t->write_cluster_config(id => 'c', cluster => $directive);

    my @lines = split /\n/, $t->read_file('conf/engram.conf');
    my ($line) = grep { $lines[$_ - 1] =~ /\Q$directive\E/ } 1 .. @lines;

    my $r = $t->run({ env => $opts{env} // {} }, '-t');

    return ($r, $t->path('conf/engram.conf') . ":$line");
}


push @EXPORT_OK, qw(cluster_members metrics cluster_conf_test);


###########################################################################
# a command prefix: engram in a network namespace (t/discovery_multicast.t)

# Engram->new(wrap => ['ip', 'netns', 'exec', 'ns1']) runs every command
# of the instance (start, run: -t, -s ...) under that prefix, so that the
# daemon lives in the namespace; signals and /proc work as ever, since the
# processes stay in our pid namespace. Without "wrap" nothing changes.
{
    no warnings 'redefine';

    my $spawn = \&_spawn;

    *_spawn = sub {
        my ($self, $args, @rest) = @_;

        my @wrap = @{ $self->{wrap} // [] };
        return $spawn->($self, $args, @rest) unless @wrap;

        # the prefix's program is exec'd, with the binary as an argument
        my $binary = $self->{binary};
        local $self->{binary} = $wrap[0];

        return $spawn->($self, [ @wrap[1 .. $#wrap], $binary, @$args ],
                        @rest);
    };
}

1;
