#!/usr/bin/perl

# The Debian package as an operator gets it: "make deb" builds it, lintian
# finds no error in it, dpkg installs it on this machine, the packaged
# binary runs with the packaged configuration through the commands of the
# packaged systemd unit (with the unit's capabilities, without systemd),
# logrotate's command reopens the logs, an edited configuration survives a
# reinstall and an upgrade, and a purge leaves nothing but the "engram"
# user.
#
# It installs a package, so it needs root (CI runs as root); whatever way
# it ends, the package is purged and its daemon stopped. An engram package
# installed before the test makes it skip rather than remove it.
#
# Environment: TEST_ENGRAM_DEB, a .deb to test instead of building one.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use FindBin;
use POSIX qw(WNOHANG);
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for free_port http_get http_json run_command);
use EngramPackage qw(read_text source_version build_package);

my $TOP = abs_path("$FindBin::Bin/..");

my $CONF = '/etc/engram/engram.conf';
my $PID_FILE = '/run/engram/engram.pid';
my $UNIT = '/lib/systemd/system/engram.service';
my $LOGROTATE = '/etc/logrotate.d/engram';
my $BINARY = '/usr/sbin/engram';

plan skip_all => 'installs a package with dpkg: needs root' if $> != 0;

plan skip_all => 'an engram package is installed already and this test '
                 . 'would purge it: "dpkg --purge engram" to run it'
    if installed_version();

my $tmp = tempdir('engram-package-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
my $installed = 0;      # whether the END block must purge


# the version dpkg has installed, or undef
sub installed_version {
    my $r = run_command(['dpkg-query', '-W', '-f', '${Status} ${Version}',
                         'engram']);
    return undef unless $r->{exit} == 0;
    return $r->{stdout} =~ /^install ok installed (\S+)/ ? $1 : undef;
}


sub write_text {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} $text;
    close $fh or die "$path: $!";
}


# dpkg, waiting for its lock when another dpkg or apt holds it
sub dpkg {
    my (@args) = @_;

    local $ENV{DEBIAN_FRONTEND} = 'noninteractive';
    my $r;

    wait_for(sub {
        $r = run_command(['dpkg', @args], timeout => 120);
        return 1 unless $r->{exit} != 0 && $r->{stderr} =~ /\block\b/i;
        sleep 1;
        return 0;
    }, 180);

    diag("dpkg @args: exit $r->{exit}\n$r->{stdout}$r->{stderr}")
        if $r->{exit} != 0;

    return $r;
}


sub master_pid {
    my $text = read_text($PID_FILE) // '';
    return $text =~ /^(\d+)\n?$/ ? $1 + 0 : undef;
}


# the packaged binary's processes, its masters and their children:
# pid => { title, uid, ppid }
sub processes {
    my (%p, @stats);

    opendir my $dh, '/proc' or die "/proc: $!";
    @stats = grep { $_ && $_->{state} !~ /^[ZXx]$/ }
             map { Engram::proc_stat($_) } grep { /^\d+$/ } readdir $dh;
    closedir $dh;

    my %masters = map { $_->{pid} => 1 }
                  grep { Engram::title($_->{pid})
                         =~ m{^engram: master process \Q$BINARY\E(?:\s|$)} }
                  @stats;

    for my $st (@stats) {
        my $title = Engram::title($st->{pid});

        next unless $masters{ $st->{pid} }
                    || ($masters{ $st->{ppid} } && $title =~ /^engram: /);

        my ($uid) = (read_text("/proc/$st->{pid}/status") // '')
                    =~ /^Uid:\s+(\d+)/m;

        $p{ $st->{pid} } = { title => $title, uid => $uid,
                             ppid => $st->{ppid} };
    }

    return \%p;
}


# the children of the master, by title
sub children {
    my ($master, $title) = @_;
    my $p = processes();
    return grep { $p->{$_}{ppid} == $master && $p->{$_}{title} eq $title }
           keys %$p;
}


# Stops every process of the packaged binary: QUIT to the masters, then
# KILL to whatever is left of them and their children (a master that
# cannot signal its children leaves them behind).
sub stop_daemon {
    my $p = processes();
    my @masters = grep { $p->{$_}{title} =~ /^engram: master process/ }
                  keys %$p;

    kill 'QUIT', @masters;

    wait_for(sub { !grep { Engram::pid_alive($_) } keys %$p }, 10);

    for my $pid (keys %$p) {
        kill 'KILL', $pid if Engram::title($pid) =~ /^engram: /;
    }
}


END {
    my $status = $?;

    if ($installed) {
        stop_daemon();
        my $r = run_command(['dpkg', '--purge', 'engram'], timeout => 120);
        print STDERR "# cleanup: dpkg --purge engram failed: $r->{stderr}"
            if $r->{exit} != 0;
    }

    $? = $status;
}


# [Service] of the unit: key => [values, in order]
sub unit_service {
    my ($text) = @_;

    my (%keys, $in);

    for my $line (split /\n/, $text) {
        next if $line =~ /^\s*(?:#|;|$)/;
        if ($line =~ /^\[(\w+)\]/) { $in = $1; next }
        next unless ($in // '') eq 'Service';
        my ($k, $v) = $line =~ /^(\w+)=(.*)$/ or next;
        push @{ $keys{$k} }, $v;
    }

    return \%keys;
}


# A command of the unit, run as systemd would run it: with the unit's
# capability bounding set and no new privileges, $MAINPID replaced. Not
# with run_command, which kills the process group at the end: a daemon
# that has not called setsid() yet is still in it.
sub unit_command {
    my ($service, $command, %opts) = @_;

    my @caps = map { my $c = lc $_; $c =~ s/^cap_//; "+$c" }
               split ' ', $service->{CapabilityBoundingSet}[0] // '';

    my @argv = map { s/\$MAINPID/$opts{mainpid} \/\/ ''/ger }
               split ' ', $command;

    my $err = "$tmp/command.stderr";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>', '/dev/null' or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        { exec 'setpriv', '--no-new-privs',
               '--bounding-set=' . join(',', '-all', @caps), @argv; }
        POSIX::_exit(127);
    }

    my $status;
    wait_for(sub {
        return 0 unless waitpid($pid, WNOHANG) == $pid;
        $status = $?;
        return 1;
    }) or kill 'KILL', $pid;

    return { exit => defined $status ? $status >> 8 : -1,
             stderr => read_text($err) // '' };
}


sub lines_matching {
    my ($file, $re) = @_;
    return grep { /$re/ } split /\n/, read_text($file) // '';
}


###########################################################################

chdir $TOP or die "$TOP: $!";

my $version = source_version();
ok($version, "the source says its version ($version)");

# no unit tests in the package build: "make check" runs them
my ($deb, $changes) = build_package('deb', $tmp,
                                    env => { DEB_BUILD_OPTIONS => 'nocheck' });

if (!ok($deb && -f $deb, 'the package is there: ' . ($deb // 'none'))) {
    done_testing;
    exit 1;
}


subtest 'the package has the files and metadata an operator expects' => sub {
    my $r = run_command(['dpkg-deb', '-f', $deb, 'Package', 'Version']);
    like($r->{stdout}, qr/^Package: engram\nVersion: \Q$version\E\n/,
         "engram $version, as src/core/engram.h says");

    $r = run_command(['dpkg-deb', '-c', $deb]);
    my %files = map { (split ' ', $_, 6)[5] =~ s{^\.}{}r => 1 }
                split /\n/, $r->{stdout};

    for my $f ($BINARY, $CONF, $UNIT, $LOGROTATE,
               '/usr/lib/tmpfiles.d/engram.conf',
               '/usr/libexec/engram/engram-live-upgrade',
               '/usr/share/man/man8/engram.8.gz',
               '/usr/share/man/man5/engram.conf.5.gz',
               '/usr/share/doc/engram/copyright',
               '/var/lib/engram/', '/var/log/engram/')
    {
        ok($files{$f}, "has $f");
    }

    ok(!grep({ m{^/run/} } keys %files), 'ships nothing in /run');

    $r = run_command(['dpkg-deb', '-I', $deb, 'conffiles']);
    like($r->{stdout}, qr{^\Q$CONF\E$}m, "$CONF is a conffile");
    like($r->{stdout}, qr{^\Q$LOGROTATE\E$}m, "$LOGROTATE is a conffile");
};


SKIP: {
    skip 'TEST_ENGRAM_DEB: no .changes to check', 1 unless $changes;

    # lintian reads the .changes, the .deb and its -dbgsym
    my $r = run_command(['lintian', '--fail-on', 'error', $changes],
                        timeout => 300);
    my @errors = grep { /^E: / } split /\n/, $r->{stdout};

    ok($r->{exit} == 0 && !@errors, 'lintian reports no error')
        or diag("lintian exit $r->{exit}:\n$r->{stdout}$r->{stderr}");
    note("lintian: $_") for grep { /^[WI]: / } split /\n/, $r->{stdout};
}


my $r = dpkg('-i', $deb);
$installed = 1;
is($r->{exit}, 0, 'dpkg -i installs it');
is(installed_version(), $version, "dpkg has engram $version installed");

my @pw = getpwnam('engram');
ok(@pw, 'the engram system user exists');
my $engram_uid = $pw[2];
is($pw[8], '/usr/sbin/nologin', 'it has no login shell');

for my $dir ('/var/lib/engram', '/var/log/engram') {
    my @st = stat $dir;
    ok(@st && -d _, "$dir is there");
    is($st[4], $engram_uid, "$dir belongs to engram");
    is($st[2] & 07777, 0750, "$dir is 0750");
}

ok(-d '/run/engram', '/run/engram is made at once (tmpfiles.d)');

$r = run_command([$BINARY, '-t', '-c', $CONF]);
is($r->{exit}, 0, "engram -t -c $CONF passes")
    or diag($r->{stderr});
like($r->{stderr}, qr/test is successful/, 'and says so');

$r = run_command([$BINARY, '-V']);
like($r->{stderr}, qr/--conf-path=\/etc\/engram\/engram\.conf/,
     'the binary was configured with the Debian paths');
like($r->{stderr}, qr/--user=engram\b/, 'and the engram user');

my $unit_text = read_text($UNIT) // '';
my $service = unit_service($unit_text);

subtest 'the systemd unit' => sub {
    is($service->{Type}[0], 'forking', 'Type=forking, as the daemon forks');
    is($service->{PIDFile}[0], $PID_FILE,
       'PIDFile is the pid file the configuration names');
    like(read_text($CONF), qr/^pid\s+\Q$PID_FILE\E;/m,
         'which is the packaged configuration\'s');
    like($service->{ExecReload}[-1], qr/kill -s HUP \$MAINPID$/,
         'ExecReload sends HUP');
    like($service->{ExecStop}[0], qr/kill -s QUIT \$MAINPID$/,
         'ExecStop sends QUIT');
    is($service->{Restart}[0], 'on-failure', 'Restart=on-failure');
    is($service->{NoNewPrivileges}[0], 'yes', 'NoNewPrivileges=yes');
    is($service->{ProtectSystem}[0], 'strict', 'ProtectSystem=strict');
    is_deeply([sort split ' ', $service->{ReadWritePaths}[0]],
              ['/var/lib/engram', '/var/log/engram'],
              'writable: the state and log directories');
    ok($service->{CapabilityBoundingSet}, 'a capability bounding set');

    SKIP: {
        skip 'no systemd-analyze', 1
            unless -x '/usr/bin/systemd-analyze';

        my $v = run_command(['systemd-analyze', 'verify', $UNIT]);
        ok($v->{exit} == 0 && $v->{stderr} !~ /engram\.service/,
           'systemd-analyze verify finds nothing wrong')
            or diag($v->{stdout} . $v->{stderr});
    }
};

# a running systemd has started the unit (dpkg did it): these checks run
# the daemon themselves
if (-d '/run/systemd/system') {
    run_command(['systemctl', 'stop', 'engram.service'], timeout => 60);
}

# the edit that must survive: ports no other test uses, and cluster mode,
# so that the cluster process writes its snapshot as engram
my $http_port = free_port();
my $gossip_port = free_port();
my $packaged_conf = read_text($CONF);
my $conf = $packaged_conf;

ok($conf =~ s/^(\s*listen\s+)127\.0\.0\.1:8081;/${1}127.0.0.1:$http_port;/m,
   'the packaged configuration listens on 127.0.0.1:8081');
$conf =~ s/^(http \{)/# edited by t\/package_deb.t
cluster {
    node_id        package-test;
    listen         127.0.0.1:$gossip_port;
    snapshot_path  \/var\/lib\/engram\/members;
}

$1/m;
write_text($CONF, $conf);


subtest 'the unit\'s commands start, reload and stop the packaged daemon'
=> sub {
    my $r = unit_command($service, $service->{ExecStartPre}[0]);
    is($r->{exit}, 0, "ExecStartPre ($service->{ExecStartPre}[0])")
        or diag($r->{stderr});

    $r = unit_command($service, $service->{ExecStart}[0]);
    is($r->{exit}, 0, "ExecStart ($service->{ExecStart}[0]) forks and "
                      . 'exits 0');

    my $master = wait_for(sub { my $m = master_pid();
                                $m && Engram::pid_alive($m) ? $m : 0 });
    ok($master, "the master writes $PID_FILE")
        or return diag(read_text('/var/log/engram/error.log') // '');

    like(Engram::title($master), qr/^engram: master process \Q$BINARY\E/,
         'it is the packaged binary\'s master');
    is((stat "/proc/$master")[4], 0, 'the master runs as root');

    my $n = Engram::cpu_count();
    my @workers;
    ok(wait_for(sub {
           @workers = children($master, 'engram: worker process');
           return @workers == $n;
       }), "worker_processes auto: $n workers");

    my @cluster;
    ok(wait_for(sub {
           @cluster = children($master, 'engram: cluster process');
           return @cluster == 1;
       }), 'and the cluster process');

    my $p = processes();
    is(scalar(grep { ($p->{$_}{uid} // -1) == $engram_uid }
              @workers, @cluster),
       $n + 1, 'they run as engram');

    my ($status, $body, $head) = http_get($http_port, '/');
    is($status, 200, "the status page answers on 127.0.0.1:$http_port");
    like($head // '', qr{^Content-Type: text/html}mi, 'in HTML');
    like($body, qr/package-test/, 'naming the node');

    my $health = http_json($http_port, '/health');
    is($health->{status}, 'ok', '/health says ok');
    is($health->{version}, $version, "and version $version");

    my $members = http_json($http_port, '/cluster/members');
    is($members->{mode}, 'distributed', 'the node is in cluster mode');
    is($members->{self}, 'package-test', 'as package-test');

    ok(wait_for(sub { -s '/var/lib/engram/members' }),
       'the cluster process writes its snapshot in /var/lib/engram');
    is((stat '/var/lib/engram/members')[4], $engram_uid, 'as engram');

    ok(wait_for(sub {
           lines_matching('/var/log/engram/access.log',
                          qr{"GET /health HTTP/1\.[01]" 200})
       }), 'requests go to /var/log/engram/access.log');

    # ExecReload: the configuration is checked, then HUP
    my $from = -s '/var/log/engram/error.log';

    for my $cmd (@{ $service->{ExecReload} }) {
        $r = unit_command($service, $cmd, mainpid => $master);
        is($r->{exit}, 0, "ExecReload ($cmd)") or diag($r->{stderr});
    }

    ok(wait_for(sub {
           my @now = children($master, 'engram: worker process');
           return @now == $n && !grep { my $w = $_; grep { $_ == $w }
                                        @workers } @now;
       }), 'new workers replace the old ones');
    like(substr(read_text('/var/log/engram/error.log'), $from),
         qr/reconfiguring/, 'the master logs the reload');

    ($status) = http_get($http_port, '/health');
    is($status, 200, 'the node still answers');

    # logrotate: the logs are moved, then its postrotate script runs
    my ($postrotate) = (read_text($LOGROTATE) // '')
                       =~ /^\s*postrotate\n(.*?)^\s*endscript/ms;
    ok($postrotate, "$LOGROTATE has a postrotate script");

    SKIP: {
        skip 'no logrotate to parse the file', 1
            unless -x '/usr/sbin/logrotate';
        my $lr = run_command(['logrotate', '-d', '-s', "$tmp/state",
                              $LOGROTATE]);
        is($lr->{exit}, 0, 'logrotate -d reads it') or diag($lr->{stderr});
    }

    for my $log ('error.log', 'access.log') {
        rename "/var/log/engram/$log", "/var/log/engram/$log.1"
            or die "rename $log: $!";
    }

    $r = run_command(['sh', '-c', $postrotate // 'exit 1']);
    is($r->{exit}, 0, 'the postrotate script runs') or diag($r->{stderr});

    ok(wait_for(sub { -e '/var/log/engram/error.log' }),
       'USR1: the master reopens its log in /var/log/engram');
    ok(scalar lines_matching('/var/log/engram/error.log.1',
                             qr/\[notice\] $master#0: reopening logs/),
       'having said so in the old one');
    is((stat '/var/log/engram/error.log')[4], $engram_uid,
       'and gives the new one to engram');

    http_get($http_port, '/health');
    ok(wait_for(sub {
           lines_matching('/var/log/engram/access.log', qr{GET /health})
       }), 'workers write to the new access log');

    # ExecStop: QUIT, the node leaves the cluster
    $r = unit_command($service, $service->{ExecStop}[0], mainpid => $master);
    is($r->{exit}, 0, "ExecStop ($service->{ExecStop}[0])");

    ok(wait_for(sub { !%{ processes() } }), 'every process exits');
    ok(scalar lines_matching('/var/log/engram/error.log',
                             qr/left the cluster/),
       'the node left the cluster gracefully');
    ok(!-e $PID_FILE, 'the pid file is gone');

    my @bad = grep { /\[(?:alert|crit|emerg)\]/ }
              map { split /\n/, read_text($_) // '' }
              glob '/var/log/engram/*.log*';
    ok(!@bad, 'no alert, crit or emerg in the logs') or diag(join "\n", @bad);
};


# whatever went wrong above, nothing of the package runs after this
stop_daemon();


# What an upgrade of the package does to a running node: the postinst
# moves it to the new binary in place (engram-live-upgrade: USR2, then
# QUIT to the old master); a restart would make it leave the cluster.
# Returns the new master.
sub moved_in_place {
    my ($old, $what) = @_;

    my $new;
    ok(wait_for(sub {
           $new = master_pid();
           return $new && $new != $old && Engram::pid_alive($new)
                  && !Engram::pid_alive($old);
       }), "$what: a new master ($old -> " . ($new // 'none') . ')')
        or diag(read_text('/var/log/engram/error.log') // '');

    is(readlink("/proc/$new/exe"), $BINARY,
       "$what: it runs the installed binary");
    ok(wait_for(sub { children($new, 'engram: cluster process') == 1 }),
       "$what: with its cluster process");
    ok(!lines_matching('/var/log/engram/error.log',
                       qr/leaving the cluster|left the cluster/),
       "$what: the node did not leave the cluster");

    my ($status) = http_get($http_port, '/health');
    is($status, 200, "$what: it answers");

    return $new;
}


subtest 'an edited configuration survives a reinstall and an upgrade; '
        . 'a running node is moved to the new binary in place' => sub {
    truncate '/var/log/engram/error.log', 0;

    my $r = unit_command($service, $service->{ExecStart}[0]);
    is($r->{exit}, 0, 'the node runs') or diag($r->{stderr});
    my $master = wait_for(sub { my $m = master_pid();
                                $m && Engram::pid_alive($m) ? $m : 0 });

    $r = dpkg('-i', $deb);
    is($r->{exit}, 0, 'dpkg -i of the same package');
    is(read_text($CONF), $conf, 'the edit is kept');
    $master = moved_in_place($master, 'reinstall');

    # the same package under a higher version: an upgrade
    my $up = "$tmp/up";
    my $new_version = "$version+test1";

    $r = run_command(['dpkg-deb', '-R', $deb, $up]);
    is($r->{exit}, 0, 'dpkg-deb -R') or diag($r->{stderr});

    my $control = read_text("$up/DEBIAN/control");
    $control =~ s/^Version: .*$/Version: $new_version/m;
    write_text("$up/DEBIAN/control", $control);

    $r = run_command(['dpkg-deb', '-Znone', '-b', $up, "$tmp/up.deb"]);
    is($r->{exit}, 0, 'dpkg-deb -b') or diag($r->{stderr});

    $r = dpkg('-i', "$tmp/up.deb");
    is($r->{exit}, 0, "dpkg -i upgrades to $new_version");
    is(installed_version(), $new_version, "$new_version is installed");
    is(read_text($CONF), $conf, 'the edit is kept');
    my @left = glob '/etc/engram/*.dpkg-*';
    ok(!@left, 'without a .dpkg-dist or .dpkg-old') or diag("@left");

    $r = run_command([$BINARY, '-t', '-q']);
    is($r->{exit}, 0, 'the upgraded binary accepts it');

    $master = moved_in_place($master, 'upgrade');

    $r = unit_command($service, $service->{ExecStop}[0], mainpid => $master);
    is($r->{exit}, 0, 'ExecStop');
    ok(wait_for(sub { !%{ processes() } }), 'every process exits');
};


subtest 'a purge leaves nothing but the engram user' => sub {
    my $r = dpkg('--purge', 'engram');
    is($r->{exit}, 0, 'dpkg --purge engram');
    $installed = 0 if $r->{exit} == 0;

    ok(!installed_version(), 'dpkg has no engram any more');

    for my $path ('/etc/engram', $BINARY, $UNIT, $LOGROTATE,
                  '/usr/lib/tmpfiles.d/engram.conf',
                  '/usr/share/man/man8/engram.8.gz',
                  '/usr/share/doc/engram', '/var/lib/engram',
                  '/var/log/engram', '/run/engram',
                  '/etc/systemd/system/multi-user.target.wants/'
                  . 'engram.service')
    {
        ok(!-e $path && !-l $path, "no $path");
    }

    ok(getpwnam('engram'), 'the engram user stays, as policy advises');
};

done_testing;
