package EngramPackage;

# What the package tests (t/package_*.t) share: the version the source
# says, and the package "make deb" or "make rpm" builds for it.
#
#     my $version = source_version();
#     my ($deb, $changes) = build_package('deb', $tmp,
#         env => { DEB_BUILD_OPTIONS => 'nocheck' });
#
# The build is that of the build directory of TEST_ENGRAM_BINARY (objs by
# default), so that it is the one "make check" configured. A variable
# TEST_ENGRAM_DEB or TEST_ENGRAM_RPM names a package to test instead.

use strict;
use warnings;

use Cwd qw(abs_path);
use Exporter qw(import);
use File::Basename qw(dirname);
use Test::More ();

use Engram qw(run_command);

our @EXPORT_OK = qw(read_text source_version build_package);


# a whole file, or undef
sub read_text {
    my ($path) = @_;

    open my $fh, '<', $path or return undef;
    local $/;
    my $text = <$fh>;
    close $fh;

    return $text;
}


# ENGRAM_VERSION of src/core/engram.h (run from the top of the tree)
sub source_version {
    my $h = read_text('src/core/engram.h') // '';
    return $h =~ /^#define ENGRAM_VERSION\s+"([^"]+)"/m ? $1 : undef;
}


# Builds the package of a kind (deb, rpm) with make, its output in
# $tmp/build.log (the end of it shown on failure), and returns the path of
# the package of the source's version: for a deb, then that of its
# .changes. Options: env, more environment for make.
sub build_package {
    my ($kind, $tmp, %opts) = @_;

    my $given = $ENV{ 'TEST_ENGRAM_' . uc $kind };
    return abs_path($given) if $given;

    my $builddir = dirname($ENV{TEST_ENGRAM_BINARY} // 'objs/engram');
    my $log = "$tmp/build.log";

    local @ENV{ keys %{ $opts{env} // {} } } = values %{ $opts{env} // {} };

    my $r = run_command(['sh', '-c', "make -f $builddir/Makefile $kind "
                                     . "> $log 2>&1"], timeout => 900);

    Test::More::is($r->{exit}, 0, "make $kind builds the package")
        or Test::More::diag(join "\n",
                            grep { defined } (split /\n/, read_text($log)
                                                          // '')[-40 .. -1]);

    my $v = source_version() // '';

    return map { glob "$builddir/pkg/$_" }
           $kind eq 'deb' ? ("engram_${v}_*.deb", "engram_${v}_*.changes")
                          : ("engram-$v-*.rpm");
}


1;
