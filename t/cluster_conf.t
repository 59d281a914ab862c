#!/usr/bin/perl

# The "cluster {}" block as a configuration: what engram -t accepts and
# refuses, and how the errors name the offending directive (file:line, or
# the environment variable it came from). A few starts check that what is
# accepted also runs; they gossip on loopback only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members);


# The configuration of conf_check(): the cluster directives go from line 4
my $FIRST_LINE = 4;


# Writes a file whose cluster block holds $body (one directive a line, from
# line $FIRST_LINE) and runs engram -t on it; options: env, main (more
# top-level directives, after the block).
sub conf_check {
    my ($t, $body, %opts) = @_;

    my $main = $opts{main} // '';

    $t->write_config("%%TEST_GLOBALS%%\n"
                     . "events { worker_connections 64; }\n"
                     . "cluster {\n$body}\n$main");

    return $t->run({ env => $opts{env} // {} }, '-t');
}


# "in FILE:LINE" as the messages end
sub at_line {
    my ($t, $line) = @_;
    return qr/ in \Q${\ $t->path($t->conf) }\E:$line$/m;
}


# the number of the first line of the configuration that matches
sub line_of {
    my ($t, $re) = @_;

    my @lines = split /\n/, $t->read_file($t->conf);
    my ($i) = grep { $lines[$_] =~ $re } 0 .. $#lines;

    return defined $i ? $i + 1 : undef;
}


# an [emerg] line of $r with this text and this end
sub refused {
    my ($r, $text, $where, $name) = @_;

    is($r->{exit}, 1, "$name: engram -t exits 1");
    like($r->{stderr}, qr/\[emerg\] \Q$text\E.*$where/m,
         "$name: the message says why and where")
        or diag($r->{stderr});
}


subtest 'ENGRAM_CLUSTER_MODE=single warns that the block is ignored' => sub {
    my $t = Engram->new;
    my $r = conf_check($t, "    listen 127.0.0.1:7946;\n",
                       env => { ENGRAM_CLUSTER_MODE => 'single' });

    is($r->{exit}, 0, 'engram -t exits 0');
    like($r->{stderr}, qr/\[warn\] ENGRAM_CLUSTER_MODE=single: the "cluster" block is ignored/,
         'the warning is shown on stderr');
};


subtest 'master_process off is refused with a cluster block' => sub {
    my $t = Engram->new;
    my $text = 'cluster mode needs "master_process on"';

    my $r = conf_check($t, "    listen 127.0.0.1:7946;\n",
                       main => "master_process off;\n");
    refused($r, $text, at_line($t, 3), 'in the file, after the block');

    $r = conf_check($t, "    listen 127.0.0.1:7946;\n",
                    env => { ENGRAM_MASTER_PROCESS => 'off' });
    refused($r, $text, at_line($t, 3), 'from ENGRAM_MASTER_PROCESS');
};


subtest 'master_process off is refused with ENGRAM_CLUSTER_MODE=distributed'
=> sub {
    my $t = Engram->new;
    $t->write_config(<<'EOF');
%%TEST_GLOBALS%%
master_process off;
events { worker_connections 64; }
EOF

    my $r = $t->run({ env => { ENGRAM_CLUSTER_MODE => 'distributed',
                               ENGRAM_CLUSTER_LISTEN_ADDR
                                   => '127.0.0.1:7946' } }, '-t');
    refused($r, 'cluster mode needs "master_process on"',
            qr/, in environment variable ENGRAM_CLUSTER_MODE$/m, 'no block');

    $r = $t->run({ env => { ENGRAM_CLUSTER_MODE => 'single' } }, '-t');
    is($r->{exit}, 0, 'ENGRAM_CLUSTER_MODE=single: accepted');
};


subtest 'members_zone_size below the size of the table is refused' => sub {
    my $t = Engram->new;
    my $r = conf_check($t, "    listen 127.0.0.1:7946;\n"
                           . "    members_zone_size 32k;\n");

    refused($r, 'value "32k" in "members_zone_size" directive is out of '
                . 'range, it must be between 65536 and',
            at_line($t, 5), '32k');
};


subtest 'the smallest members_zone_size runs, and a reload below it fails '
        . 'saying why' => sub {
    my $t = Engram->new;
    $t->write_cluster_config(id => 'small', ip => '127.0.0.121',
                             cluster => 'members_zone_size 64k;');
    $t->start;

    ok(wait_for(sub {
           (cluster_members($t->port('http')) // {})->{small}
       }), 'the member table of 64k holds the node');

    $t->write_cluster_config(cluster => 'members_zone_size 32k;');
    my $n = line_of($t, qr/members_zone_size/);

    my $from = $t->log_offset;
    $t->allow_log(qr/members_zone_size/);
    $t->signal('HUP');

    ok($t->wait_for_log(qr/\[emerg\] .*"members_zone_size" directive is out of range.* in \S+:$n$/,
                        from => $from),
       'the reload logs why it failed, with file:line');

    ok($t->stop, 'stops');
};


subtest 'indirect_checks is at most 16, as many as a probe asks' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";

    is(conf_check($t, $listen . "    indirect_checks 16;\n")->{exit}, 0,
       '16 is accepted');

    refused(conf_check($t, $listen . "    indirect_checks 17;\n"),
            'value "17" in "indirect_checks" directive is out of range, '
            . 'it must be between 1 and 16', at_line($t, 5), '17');
};


subtest 'a time of zero is refused where it would break the node' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";

    for my $d (qw(probe_interval probe_timeout gossip_interval
                  push_pull_interval reconnect_interval reap_timeout
                  hook_timeout join_retry_interval leave_timeout))
    {
        refused(conf_check($t, $listen . "    $d 0ms;\n"),
                qq{invalid value "0ms" in "$d" directive, it must be more }
                . 'than 0', at_line($t, 5), "$d 0ms");
    }

    is(conf_check($t, $listen . "    gossip_to_dead 0;\n")->{exit}, 0,
       'gossip_to_dead 0 is accepted: no gossip to the dead');
};


subtest 'a count of zero is refused' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";

    for my $d (qw(suspicion_mult suspicion_max_mult retransmit_mult
                  gossip_nodes hook_concurrency))
    {
        refused(conf_check($t, $listen . "    $d 0;\n"),
                qq{value "0" in "$d" directive is out of range, it must be }
                . 'between 1 and', at_line($t, 5), "$d 0");
    }
};


subtest 'cluster_name must not be empty, nor longer than 64 bytes' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";

    refused(conf_check($t, $listen . qq{    cluster_name "";\n}),
            'invalid value "" in "cluster_name" directive, it must not be '
            . 'empty', at_line($t, 5), 'empty');

    my $long = 'c' x 65;
    refused(conf_check($t, $listen . "    cluster_name $long;\n"),
            qq{the cluster name "$long" is longer than 64 bytes},
            at_line($t, 5), '65 bytes');

    refused(conf_check($t, $listen,
                       env => { ENGRAM_CLUSTER_NAME => $long }),
            qq{the cluster name "$long" is longer than 64 bytes},
            qr/, in environment variable ENGRAM_CLUSTER_NAME$/m,
            '65 bytes in ENGRAM_CLUSTER_NAME');

    is(conf_check($t, $listen . '    cluster_name ' . ('c' x 64) . ";\n")
           ->{exit}, 0, '64 bytes are accepted');
};


done_testing;
