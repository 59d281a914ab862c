#!/usr/bin/perl

# The command line: -v -V -h, option errors, -t -T -q and -g, as nginx has
# them. Messages go to stderr, the -T dump to stdout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram;


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 64; }
EOF

my $conf = $t->path('conf/engram.conf');


subtest 'lowercase v prints the version only and exits 0' => sub {
    my $r = $t->run({ bare => 1 }, '-v');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stderr}, qr{^engram version: engram/\d+\.\d+\.\d+\S*$}m,
         'the version line');
    unlike($r->{stderr}, qr/configure arguments:|modules:/,
           'no build details');
};


subtest 'uppercase V prints the version, configure arguments and modules' =>
sub {
    my $r = $t->run({ bare => 1 }, '-V');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stderr}, qr{^engram version: engram/}m, 'the version line');
    like($r->{stderr}, qr/^configure arguments:/m,
         'the configure arguments line');

    my ($modules) = $r->{stderr} =~ /^modules:(.*)$/m;
    ok(defined $modules, 'a modules line') or return;

    my %built = map { $_ => 1 } split ' ', $modules;
    ok($built{$_}, "$_ is listed")
        for qw(eg_core_module eg_events_module eg_epoll_module
               eg_poll_module);
};


subtest 'h prints the usage with every option and exits 0' => sub {
    my $r = $t->run({ bare => 1 }, '-h');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stderr}, qr/^Usage: engram /m, 'the usage line');

    for my $opt (qw(-h -v -V -t -T -q -s -p -e -c -g)) {
        like($r->{stderr}, qr/^\s+(?:\S+,)?\Q$opt\E\s/m, "$opt is explained");
    }
};


subtest 'an unknown option is refused with exit status 1' => sub {
    my $r = $t->run({ bare => 1 }, '-x');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/invalid option: "x"/, 'the option is named');
};


subtest 'an unknown signal name is refused with exit status 1' => sub {
    my $r = $t->run('-s', 'bogus');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/invalid option: "-s bogus"/, 'the signal is named');
};


subtest 'an option without its argument is refused with exit status 1' =>
sub {
    my $r = $t->run({ bare => 1 }, '-c');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/option "-c" requires file name/,
         'the missing argument is named');
};


subtest 'test of a valid configuration reports success and exits 0' => sub {
    my $r = $t->run('-t');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stderr},
         qr/the configuration file \Q$conf\E syntax is ok/,
         'syntax is ok');
    like($r->{stderr},
         qr/configuration file \Q$conf\E test is successful/,
         'test is successful');
    ok(!-e $t->path('logs/engram.pid'), 'nothing was started');
};


subtest 'test of an unknown directive names it with file and line' => sub {
    $t->write_config(<<'EOF', file => 'conf/unknown.conf');
%%TEST_GLOBALS%%
worker_processes 1;

foo bar;
events { }
EOF

    my $r = $t->run({ conf => 'conf/unknown.conf' }, '-t');
    my $file = $t->path('conf/unknown.conf');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr},
         qr/^engram: \[emerg\] unknown directive "foo" in \Q$file\E:4$/m,
         'the directive, the file and line 4');
    like($r->{stderr}, qr/configuration file \Q$file\E test failed/,
         'test failed');
};


subtest 'test of an unknown directive inside a block names its line' => sub {
    $t->write_config(<<'EOF', file => 'conf/block.conf');
%%TEST_GLOBALS%%
events {
    worker_connections 64;
    foo;
}
EOF

    my $r = $t->run({ conf => 'conf/block.conf' }, '-t');
    my $file = $t->path('conf/block.conf');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr},
         qr/\[emerg\] unknown directive "foo" in \Q$file\E:4$/m,
         'line 4');
};


subtest 'test of an include of a missing file names the include line' =>
sub {
    $t->write_config(<<'EOF', file => 'conf/missing.conf');
%%TEST_GLOBALS%%
include not-there.conf;
events { }
EOF

    my $r = $t->run({ conf => 'conf/missing.conf' }, '-t');
    my $file = $t->path('conf/missing.conf');
    my $missing = $t->path('conf/not-there.conf');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr},
         qr/\[emerg\] open\(\) "\Q$missing\E" failed .* in \Q$file\E:2$/m,
         'the missing file and the line of the include');
};


subtest 'test of an error in an included file names that file and line' =>
sub {
    $t->write_file('conf/bad-part.conf', "\n\nworker_processes none;\n");
    $t->write_config(<<'EOF', file => 'conf/including.conf');
%%TEST_GLOBALS%%
include bad-part.conf;
events { }
EOF

    my $r = $t->run({ conf => 'conf/including.conf' }, '-t');
    my $part = $t->path('conf/bad-part.conf');

    is($r->{exit}, 1, 'exit status 1');
    my $value = 'invalid value "none" in "worker_processes" directive';

    like($r->{stderr}, qr/\[emerg\] \Q$value\E.* in \Q$part\E:3$/m,
         'the included file and line 3');
};


subtest 'test of a missing configuration file fails' => sub {
    my $r = $t->run({ conf => 'conf/nowhere.conf' }, '-t');
    my $file = $t->path('conf/nowhere.conf');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/\[emerg\] open\(\) "\Q$file\E" failed/,
         'the file is named');
};


subtest 'uppercase T dumps the configuration after a successful test' => sub {
    my $r = $t->run('-T');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stderr}, qr/test is successful/, 'the test passed');

    my $text = $t->read_file('conf/engram.conf');
    like($r->{stdout}, qr/^# configuration file \Q$conf\E:\n\Q$text\E/m,
         'the file name, then its text');
};


subtest 'uppercase T dumps included files too' => sub {
    $t->write_file('conf/part.conf', "worker_processes 2;\n");
    $t->write_config(<<'EOF', file => 'conf/with-part.conf');
%%TEST_GLOBALS%%
include part.conf;
events { }
EOF

    my $r = $t->run({ conf => 'conf/with-part.conf' }, '-T');
    my $part = $t->path('conf/part.conf');

    is($r->{exit}, 0, 'exit status 0');
    like($r->{stdout},
         qr/^# configuration file \Q$part\E:\nworker_processes 2;$/m,
         'the included file is dumped');
};


subtest 'g adds directives to those of the file' => sub {
    my $g = Engram->new;

    $g->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
EOF

    $g->start(args => ['-g', 'worker_processes 3;'], workers => 3);

    is(scalar $g->active_worker_pids, 3, 'worker_processes 3 from -g');

    ok($g->stop, 'stops');
};


subtest 'g refuses a directive the file sets too' => sub {
    my $r = $t->run('-t', '-g', 'worker_processes 2;');

    is($r->{exit}, 1, 'exit status 1');
    my $dup = qq{"worker_processes" directive is duplicate in $conf:2};

    like($r->{stderr}, qr/\[emerg\] \Q$dup\E$/m,
         'the duplicate in the file is named with its line');
};


subtest 'g with an unknown directive names the command line' => sub {
    my $r = $t->run('-t', '-g', 'foo;');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/\[emerg\] unknown directive "foo" in command line/,
         'the command line is named');
};


subtest 'q keeps a successful test silent' => sub {
    my $r = $t->run('-t', '-q');

    is($r->{exit}, 0, 'exit status 0');
    is($r->{stderr}, '', 'nothing on stderr');
};


subtest 'q still reports errors' => sub {
    my $r = $t->run({ conf => 'conf/unknown.conf' }, '-t', '-q');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/unknown directive "foo"/, 'the error is shown');
};


subtest 's without a running master fails naming the pid file' => sub {
    my $r = $t->run('-s', 'quit');
    my $pid = $t->path('logs/engram.pid');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/open\(\) "\Q$pid\E" failed/,
         'the pid file is named');
};


done_testing;
