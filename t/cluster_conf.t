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


# Writes a file whose cluster block holds $body (one directive a line,
# from line 4) and runs engram -t on it; options: env, main (more
# top-level directives, after the block), args (more arguments).
sub conf_check {
    my ($t, $body, %opts) = @_;

    my $main = $opts{main} // '';

    $t->write_config("%%TEST_GLOBALS%%\n"
                     . "events { worker_connections 64; }\n"
                     . "cluster {\n$body}\n$main");

    return $t->run({ env => $opts{env} // {} }, '-t',
                   @{ $opts{args} // [] });
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
    like($r->{stderr},
         qr/\[warn\] ENGRAM_CLUSTER_MODE=single: the "cluster" block is/,
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

    ok($t->wait_for_log(
           qr/\[emerg\] .*"members_zone_size" directive .* in \S+:$n$/,
           from => $from),
       'the reload logs why it failed, with file:line');

    $t->write_cluster_config(cluster => 'members_zone_size 64k;');
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


subtest 'listen and advertise must be addresses: the error names the one' =>
sub {
    my $t = Engram->new;

    refused(conf_check($t, "    listen localhost:7946;\n"),
            'host name in "localhost:7946" of the "listen" directive, it '
            . 'must be an IP address', at_line($t, 4), 'listen');

    refused(conf_check($t, "    listen 127.0.0.1:7946;\n"
                           . "    advertise localhost:7946;\n"),
            'host name in "localhost:7946" of the "advertise" directive, '
            . 'it must be an IP address', at_line($t, 5), 'advertise');
};


subtest 'a wildcard advertise is refused as such, not blamed on listen' =>
sub {
    my $t = Engram->new;

    for my $a ('0.0.0.0:7946', '*:7946', '[::]:7946') {
        my $r = conf_check($t, "    listen 127.0.0.1:7946;\n"
                               . "    advertise $a;\n");
        refused($r, qq{wildcard address in "$a" of the "advertise" }
                    . 'directive, it must be the address peers reach this '
                    . 'node at', at_line($t, 5), $a);
        unlike($r->{stderr}, qr/listens on every address/,
               "$a: listen is not blamed");
    }
};


subtest 'a wildcard listen without advertise names the listen line' => sub {
    my $t = Engram->new;

    refused(conf_check($t, "    node_id n;\n    listen [::]:7946;\n"),
            'the cluster listens on every address ([::]:7946): set '
            . '"advertise" to the one peers should use', at_line($t, 5),
            '[::]:7946');

    refused(conf_check($t, '',
                       env => { ENGRAM_CLUSTER_LISTEN_ADDR => '[::]:7946' }),
            'the cluster listens on every address ([::]:7946)',
            qr/, in environment variable ENGRAM_CLUSTER_LISTEN_ADDR$/m,
            'from ENGRAM_CLUSTER_LISTEN_ADDR');
};


subtest 'a malformed seed names its line or its variable' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";

    refused(conf_check($t, $listen . "    seeds 127.0.0.2;\n"
                           . "    seeds 127.0.0.3 127.0.0.1:99999;\n"),
            'invalid port in seed "127.0.0.1:99999"', at_line($t, 6),
            'the second seeds line');

    refused(conf_check($t, $listen,
                       env => { ENGRAM_CLUSTER_SEEDS
                                    => '127.0.0.2, 127.0.0.3:abc' }),
            'invalid port in seed "127.0.0.3:abc"',
            qr/, in environment variable ENGRAM_CLUSTER_SEEDS$/m,
            'ENGRAM_CLUSTER_SEEDS');
};


subtest 'a bad keyring names the keyring line or its variable' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";
    my $missing = $t->path('conf/missing.keys');
    my $empty = $t->write_file('conf/empty.keys', "# no key\n");

    refused(conf_check($t, $listen . "    keyring missing.keys;\n"),
            qq{cannot read the keyring "$missing"}, at_line($t, 5),
            'a missing file');

    refused(conf_check($t, $listen . "    keyring empty.keys;\n"),
            qq{invalid keyring "$empty": no keys}, at_line($t, 5),
            'a file without keys');

    refused(conf_check($t, $listen,
                       env => { ENGRAM_CLUSTER_KEYRING => 'empty.keys' }),
            qq{invalid keyring "$empty": no keys},
            qr/, in environment variable ENGRAM_CLUSTER_KEYRING$/m,
            'ENGRAM_CLUSTER_KEYRING');
};


subtest 'probe_timeout not shorter than probe_interval names the later '
        . 'line' => sub {
    my $t = Engram->new;
    my $listen = "    listen 127.0.0.1:7946;\n";
    my $text = '"probe_timeout" must be shorter than "probe_interval"';

    refused(conf_check($t, $listen . "    probe_timeout 1s;\n"),
            $text, at_line($t, 5), 'probe_timeout against the default');

    refused(conf_check($t, $listen . "    probe_interval 300ms;\n"),
            $text, at_line($t, 5), 'probe_interval against the default');

    refused(conf_check($t, $listen . "    probe_interval 2s;\n"
                           . "    lifeguard on;\n"
                           . "    probe_timeout 2s;\n"),
            $text, at_line($t, 7), 'both set: the later one');
};


subtest 'tags of more than 512 bytes in all name the tags line' => sub {
    my $t = Engram->new;
    my ($k1, $k2) = ('a' x 255, 'b' x 255);

    refused(conf_check($t, "    listen 127.0.0.1:7946;\n"
                           . "    tags $k1= $k2=;\n"),
            'the tags take more than 512 bytes', at_line($t, 5),
            'two tags of 257 bytes');

    is(conf_check($t, "    listen 127.0.0.1:7946;\n"
                      . "    tags $k1= " . ('b' x 253) . "=;\n")->{exit},
       0, 'two tags of 512 bytes in all are accepted');
};


subtest 'advertise without a port takes the port of listen' => sub {
    my $t = Engram->new;
    $t->write_cluster_config(id => 'portless', ip => '127.0.0.131',
                             cluster => 'advertise 127.0.0.131;');
    $t->start;

    my $self;
    ok(wait_for(sub {
           $self = (cluster_members($t->port('http')) // {})->{portless};
       }), 'the node lists itself');
    is($self->{address}, $t->gossip_addr,
       'at the advertise address with the listen port, not 7946');

    ok($t->stop, 'stops');
};


# The address engram should pick for a wildcard listen: the first IPv4
# address, not loopback, of an interface that is up, as "ip" lists them;
# undef when "ip" cannot tell.
sub expected_advertise {
    my $r = Engram::run_command(['ip', '-o', '-4', 'addr', 'show', 'up']);
    return undef unless defined $r && ($r->{exit} // -1) == 0;

    for my $line (split /\n/, $r->{stdout}) {
        my ($ip) = $line =~ /\binet (\d+\.\d+\.\d+\.\d+)/ or next;
        return $ip unless $ip =~ /^127\./;
    }

    return '127.0.0.1';
}


subtest 'a wildcard listen without advertise advertises an interface '
        . 'address' => sub {
    my $t = Engram->new;
    my $want = expected_advertise();
    my $ip = defined $want ? quotemeta $want : '\d+\.\d+\.\d+\.\d+';

    my $r = conf_check($t, '', args => ['-e', 'logs/empty.log']);
    is($r->{exit}, 0, 'an empty cluster block is accepted')
        or diag($r->{stderr});
    like($t->error_log('logs/empty.log'),
         qr/\[notice\] .*the cluster advertises $ip:7946 /,
         'the address chosen is logged, with the default port');

    $r = conf_check($t, "    listen 7950;\n",
                    args => ['-e', 'logs/port.log']);
    is($r->{exit}, 0, 'a port alone is accepted');
    like($t->error_log('logs/port.log'),
         qr/\[notice\] .*the cluster advertises $ip:7950 /,
         'the port is that of listen');

    $t->write_config("%%TEST_GLOBALS%%\nevents { worker_connections 64; }\n");
    $r = $t->run({ env => { ENGRAM_CLUSTER_MODE => 'distributed' } }, '-t');
    is($r->{exit}, 0, 'ENGRAM_CLUSTER_MODE=distributed alone is accepted')
        or diag($r->{stderr});
};


subtest 'a node whose only seed is itself does not retry joining' => sub {
    my $t = Engram->new;
    $t->{gossip_ip} = '127.0.0.141';
    $t->write_cluster_config(id => 'alone', seeds => [$t]);
    $t->start;

    ok($t->wait_for_log(
           qr/\[info\] .*no peer found: a cluster of one/),
       'it says it has nobody to join');
    is_deeply([$t->log_lines(qr/no peer answered|join through/)], [],
              'it never tried itself, nor warned of a retry');

    ok($t->stop, 'stops');
};


subtest 'a node that others joined stops retrying its seeds' => sub {
    my ($na, $nb) = (Engram->new, Engram->new);
    my $dead = '127.0.0.144:' . $na->port('dead');

    $na->write_cluster_config(id => 'a', ip => '127.0.0.142',
                              seeds => [$dead]);
    $nb->write_cluster_config(id => 'b', ip => '127.0.0.143', seeds => [$na]);

    $na->start;
    ok($na->wait_for_log(qr/\[warn\] .*no peer answered, looking again/),
       'a retries its seed, which nothing answers');

    $nb->start;
    ok(wait_for(sub {
           (((cluster_members($na->port('http')) // {})->{b} // {})->{state}
            // '') eq 'alive'
       }), 'b joined a');

    my $line = $na->wait_for_log(
        qr/\[notice\] .*other members joined this node: the join is done/);
    ok($line, 'a says the join is done');

    my $log = $na->error_log;
    my $after = substr($log, index($log, $line // '') + length($line // ''));
    unlike($after, qr/no peer answered/,
           'and does not retry after that (the dead seed is only tried '
           . 'again as a peer to merge with)');

    ok($nb->stop, 'b stops');
    ok($na->stop, 'a stops');
};


done_testing;
