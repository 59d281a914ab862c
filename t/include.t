#!/usr/bin/perl

# include with globs: every matching file, in name order, relative to the
# directory of the configuration file, at the top level and inside blocks.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram;


subtest 'a glob includes every matching file' => sub {
    my $t = Engram->new;

    $t->pid_file('logs/included.pid');
    $t->write_file('conf/conf.d/10-workers.conf', "worker_processes 3;\n");
    $t->write_file('conf/conf.d/20-pid.conf', "pid logs/included.pid;\n");
    $t->write_file('conf/conf.d/30-log.conf',
                   "error_log logs/included.log info;\n");
    $t->write_file('conf/conf.d/README', "not a configuration file\n");

    $t->write_config(<<'EOF');
include conf.d/*.conf;
events { worker_connections 64; }
EOF

    $t->start(workers => 3);

    is(scalar $t->active_worker_pids, 3,
       'worker_processes of the first file applies');
    ok(-e $t->path('logs/included.pid'),
       'pid of the second file applies');
    ok(!-e $t->path('logs/engram.pid'), 'not the default one');
    like($t->error_log('logs/included.log'), qr/start worker process/,
         'error_log of the third file applies');
    ok(!$t->log_lines(qr/start worker process/),
       'the default log gets nothing');

    ok($t->stop, 'stops');
};


subtest 'a glob is relative to the directory of the configuration file' =>
sub {
    my $t = Engram->new;

    # -c etc/engram.conf: "parts/" is etc/parts/, not the one in the prefix
    $t->conf('etc/engram.conf');
    $t->write_file('etc/parts/workers.conf', "worker_processes 2;\n");
    $t->write_file('parts/workers.conf', "this is not engram;\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include parts/*.conf;
events { }
EOF

    my $r = $t->run('-t');

    is($r->{exit}, 0, 'the test passes')
        or diag($r->{stderr});

    $t->start(workers => 2);
    is(scalar $t->active_worker_pids, 2, 'etc/parts/workers.conf applies');

    ok($t->stop, 'stops');
};


subtest 'the files of a glob are read in name order' => sub {
    my $t = Engram->new;

    $t->write_file('conf/conf.d/b.conf', "worker_processes 3;\n");
    $t->write_file('conf/conf.d/a.conf', "worker_processes 2;\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include conf.d/*.conf;
events { }
EOF

    my $r = $t->run('-t');
    my $b = $t->path('conf/conf.d/b.conf');

    is($r->{exit}, 1, 'a directive in two files fails the test');
    like($r->{stderr},
         qr/"worker_processes" directive is duplicate in \Q$b\E:1$/m,
         'b.conf, read after a.conf, holds the duplicate');
};


subtest 'a glob inside a block includes directives of that block' => sub {
    my $t = Engram->new;

    $t->write_file('conf/events.d/connections.conf',
                   "worker_connections 64;\n");
    $t->write_file('conf/events.d/method.conf', "use poll;\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 1;
events {
    include events.d/*.conf;
}
EOF

    $t->start;

    ok($t->log_lines(qr/using the "poll" event method/),
       'use poll from the included file applies');

    ok($t->stop, 'stops');
};


subtest 'a glob that matches no file is not an error' => sub {
    my $t = Engram->new;

    $t->write_file('conf/conf.d/only.txt', "not matched\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include conf.d/*.conf;
events { }
EOF

    my $r = $t->run('-t');

    is($r->{exit}, 0, 'the test passes') or diag($r->{stderr});
};


subtest 'a glob in a directory that does not exist is not an error' => sub {
    my $t = Engram->new;

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include no-such-dir/*.conf;
events { }
EOF

    my $r = $t->run('-t');

    is($r->{exit}, 0, 'the test passes') or diag($r->{stderr});
};


subtest 'an error in a globbed file names that file and its line' => sub {
    my $t = Engram->new;

    $t->write_file('conf/conf.d/a.conf', "worker_processes 1;\n");
    $t->write_file('conf/conf.d/b.conf', "# comment\n\nfoo;\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include conf.d/*.conf;
events { }
EOF

    my $r = $t->run('-t');
    my $b = $t->path('conf/conf.d/b.conf');

    is($r->{exit}, 1, 'exit status 1');
    like($r->{stderr}, qr/unknown directive "foo" in \Q$b\E:3$/m,
         'b.conf line 3');
};


subtest 'uppercase T dumps every file of a glob' => sub {
    my $t = Engram->new;

    $t->write_file('conf/conf.d/a.conf', "worker_processes 1;\n");
    $t->write_file('conf/conf.d/b.conf', "worker_rlimit_nofile 1024;\n");

    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
include conf.d/*.conf;
events { }
EOF

    my $r = $t->run('-T');

    is($r->{exit}, 0, 'exit status 0');

    for my $name ('conf/engram.conf', 'conf/conf.d/a.conf',
                  'conf/conf.d/b.conf')
    {
        my $path = $t->path($name);
        my $text = $t->read_file($name);

        like($r->{stdout}, qr/^# configuration file \Q$path\E:\n\Q$text\E/m,
             "$name is dumped");
    }
};


done_testing;
