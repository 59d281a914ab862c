#!/usr/bin/perl

# The RPM package: "make rpm" builds it (rpmbuild, --nodeps on Debian), and
# what it would install is checked without installing it: its file list
# with owners and modes, its configuration files (noreplace), its
# scriptlets (the user, systemd), and the packaged binary and
# configuration taken out of it, which must agree with each other.
#
# Environment: TEST_ENGRAM_RPM, an .rpm to test instead of building one.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(run_command);
use EngramPackage qw(read_text source_version build_package);

my $TOP = abs_path("$FindBin::Bin/..");

chdir $TOP or die "$TOP: $!";

my $tmp = tempdir('engram-rpm-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $tmp;       # for "engram -t" as nobody


# rpm -qp with a query format or options; its output
sub query {
    my ($rpm, @args) = @_;
    my $r = run_command(['rpm', '-qp', @args, $rpm]);
    is($r->{exit}, 0, "rpm -qp @args") or diag($r->{stderr});
    return $r->{stdout};
}


my $version = source_version();
ok($version, "the source says its version ($version)");

my ($rpm) = build_package('rpm', $tmp);

if (!ok($rpm && -f $rpm, 'the package is there: ' . ($rpm // 'none'))) {
    done_testing;
    exit 1;
}

is(query($rpm, '--qf', '%{NAME} %{VERSION}'), "engram $version",
   "engram $version, as src/core/engram.h says");


subtest 'its files, owners and modes' => sub {
    my %files;

    for my $line (split /\n/, query($rpm, '--qf',
                  '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} '
                  . '%{FILENAMES}\n]'))
    {
        my ($mode, $owner, $path) = split ' ', $line, 3;
        $path =~ s/\.gz$// if $path =~ m{^/usr/share/man/};
        $files{$path} = "$mode $owner";
    }

    my %want = (
        '/usr/sbin/engram'                   => '-rwxr-xr-x root:root',
        '/etc/engram'                        => 'drwxr-xr-x root:root',
        '/etc/engram/engram.conf'            => '-rw-r--r-- root:root',
        '/etc/logrotate.d/engram'            => '-rw-r--r-- root:root',
        '/usr/lib/systemd/system/engram.service'
                                             => '-rw-r--r-- root:root',
        '/usr/lib/tmpfiles.d/engram.conf'    => '-rw-r--r-- root:root',
        '/usr/libexec/engram'                => 'drwxr-xr-x root:root',
        '/usr/libexec/engram/engram-live-upgrade'
                                             => '-rwxr-xr-x root:root',
        '/usr/share/man/man8/engram.8'       => '-rw-r--r-- root:root',
        '/usr/share/man/man5/engram.conf.5'  => '-rw-r--r-- root:root',
        '/var/lib/engram'                    => 'drwxr-x--- engram:engram',
        '/var/log/engram'                    => 'drwxr-x--- engram:engram',
        '/run/engram'                        => 'drwxr-xr-x root:root',
    );

    for my $path (sort keys %want) {
        is($files{$path}, $want{$path}, "$path: $want{$path}");
    }

    my @other = grep { !$want{$_} && !m{^/usr/share/doc/engram[^/]*(?:/|$)} }
                sort keys %files;
    ok(!@other, 'nothing else but the docs') or diag("@other");

    my $list = query($rpm, '-l');
    like($list, qr{^/usr/share/doc/engram[^/]*/README\.md$}m,
         'rpm -qlp lists the README among the docs');
};


subtest 'its configuration files are kept when edited' => sub {
    my $config = query($rpm, '--configfiles');
    is_deeply([sort split /\n/, $config],
              ['/etc/engram/engram.conf', '/etc/logrotate.d/engram'],
              'rpm -qp --configfiles: the configuration and logrotate');

    my %flags = map { (split ' ', $_)[0, 1] }
                split /\n/, query($rpm, '--qf',
                                  '[%{FILENAMES} %{FILEFLAGS:fflags}\n]');

    for my $f ('/etc/engram/engram.conf', '/etc/logrotate.d/engram') {
        like($flags{$f}, qr/^(?=.*c)(?=.*n)/, "$f: %config(noreplace)");
    }
};


subtest 'its scriptlets' => sub {
    my $scripts = query($rpm, '--scripts');

    my %part;
    my $name;

    for my $line (split /\n/, $scripts) {
        if ($line =~ /^(\w+) scriptlet \(using \/bin\/sh\):$/) {
            $name = $1;
            next;
        }
        $part{$name} .= "$line\n" if defined $name;
    }

    is_deeply([sort keys %part],
              [qw(postinstall postuninstall preinstall preuninstall)],
              'pre, post, preun and postun, in sh');

    like($part{preinstall},
         qr/^getent group engram .*\|\| groupadd -r engram$/m,
         'pre: the engram group, made if missing');
    like($part{preinstall}, qr/useradd -r -g engram -d \/var\/lib\/engram/,
         'pre: the engram system user, made if missing');
    like($part{postinstall}, qr/systemctl .*preset engram\.service/,
         'post: the unit enabled as the preset says');
    like($part{postinstall}, qr/systemd-tmpfiles --create/,
         'post: /run/engram made');
    like($part{preuninstall}, qr/systemctl .*disable --now engram\.service/,
         'preun: the unit stopped and disabled on erase');
    like($part{postuninstall},
         qr/\$1 -ge 1 .*\n\s*\/usr\/libexec\/engram\/engram-live-upgrade/,
         'postun: on upgrade, the node moved to the new binary in place');
    unlike($part{postuninstall}, qr/restart/,
           'not restarted: it would leave the cluster');

    for my $s (sort keys %part) {
        like($part{$s}, qr/\[ -x \/usr\/bin\/systemctl \]/,
             "$s: systemctl only where there is one")
            if $part{$s} =~ /systemctl/;

        my $file = "$tmp/$s.sh";
        open my $fh, '>', $file or die "$file: $!";
        print {$fh} $part{$s};
        close $fh;

        my $r = run_command(['sh', '-n', $file]);
        is($r->{exit}, 0, "$s: valid sh") or diag($r->{stderr});
    }
};


subtest 'its binary and configuration work together' => sub {
    my $root = "$tmp/root";
    mkdir $root or die "$root: $!";

    my $r = run_command(['sh', '-c', "rpm2archive - < '$rpm' "
                                     . "| tar -xzf - -C '$root'"]);
    is($r->{exit}, 0, 'the payload unpacks') or diag($r->{stderr});

    my $engram = "$root/usr/sbin/engram";

    $r = run_command([$engram, '-V']);
    like($r->{stderr}, qr/^engram version: engram\/\Q$version\E$/m,
         "the binary is engram $version");

    for my $opt ('--prefix=/usr', '--sbin-path=/usr/sbin/engram',
                 '--conf-path=/etc/engram/engram.conf',
                 '--error-log-path=/var/log/engram/error.log',
                 '--pid-path=/run/engram/engram.pid', '--user=engram',
                 '--group=engram')
    {
        like($r->{stderr}, qr/ \Q$opt\E(?: |$)/m, "configured with $opt");
    }

    # as nobody: a root engram would look up the engram user, which this
    # machine need not have
    my @nobody = $> == 0 ? ('setpriv', '--reuid=nobody', '--regid=nogroup',
                            '--clear-groups')
                         : ();

    $r = run_command([@nobody, $engram, '-t', '-c',
                      "$root/etc/engram/engram.conf"]);
    is($r->{exit}, 0, 'engram -t accepts the packaged configuration')
        or diag($r->{stderr});

    is(read_text("$root/etc/engram/engram.conf"),
       read_text('debian/engram.conf'), 'the same configuration as the .deb');
    is(read_text("$root/usr/lib/systemd/system/engram.service"),
       read_text('contrib/systemd/engram.service'),
       'the same systemd unit as the .deb');
    is(read_text("$root/etc/logrotate.d/engram"),
       read_text('contrib/logrotate/engram'),
       'the same logrotate file as the .deb');
};

done_testing;
