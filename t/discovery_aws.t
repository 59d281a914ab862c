#!/usr/bin/perl

# AWS EC2 discovery against a fixture EC2 API and instance metadata
# service (t/lib/ec2_fixture.py, loopback only): the fixture checks each
# request's Signature Version 4 with botocore and answers
# DescribeInstances in pages of two, as EC2 writes them.
#
#   - three nodes whose instances' private addresses are their gossip
#     addresses find each other, with temporary credentials from IMDSv2
#     (one node also takes its region from IMDS), which are kept, and
#     fetched again before they expire;
#   - three more do with keys from the environment, one of them with a
#     session token, over HTTPS with a CA file;
#   - without endpoint=, nodes ask https://ec2.REGION.amazonaws.com, a
#     name that a DNS server of the test's (dnsmasq, nothing forwarded)
#     gives a loopback address, its certificate checked;
#   - a wrong secret shows EC2's SignatureDoesNotMatch in the health
#     endpoint, and so does an unreachable IMDS its own error;
#   - the "aws" directive refuses what it cannot use, naming file and
#     line, and the ENGRAM_CLUSTER_AWS_* variables override it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(WNOHANG);
use Test::More;
use Engram qw(wait_for free_port http_json cluster_members run_command);


my $PYTHON = '/usr/bin/python3';
my $FIXTURE = "$FindBin::Bin/lib/ec2_fixture.py";

plan skip_all => "Debian's python3 with botocore is needed "
                 . '(apt-get install python3-botocore)'
    unless -x $PYTHON
           && system($PYTHON, '-c', 'import botocore.auth') == 0;


my $REGION = 'us-east-1';
my $TAG = 'EngramCluster';

my $ENV_KEY = 'AKIAENGRAMTESTKEY001';
my $ENV_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY';
my $TOKEN_KEY = 'ASIAENGRAMTESTKEY002';
my $TOKEN_SECRET = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
my $TOKEN = 'FwoGZXIvYXdzEBYaDN+example/session+token==';

my $dir = tempdir('engram-ec2-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

# the cluster process may run as "nobody": it reads the CA file here
chmod 0755, $dir or die "chmod $dir: $!";
my $state_file = "$dir/state.json";
my $log_file = "$dir/requests.jsonl";

my %STATE = (
    region    => $REGION,
    page_size => 2,
    keys      => {
        $ENV_KEY   => { secret => $ENV_SECRET, token => undef },
        $TOKEN_KEY => { secret => $TOKEN_SECRET, token => $TOKEN },
    },
    instances => [],
    imds      => { role => 'engram-node', region => $REGION,
                   expires_in => 3600 },
);

sub write_state {
    open my $fh, '>', "$state_file.new" or die "$state_file: $!";
    print {$fh} JSON::PP->new->canonical->encode(\%STATE);
    close $fh;
    rename "$state_file.new", $state_file or die "rename: $!";
}


# an instance of the fixture: id, private address, state, tags
sub instance {
    my ($id, $ip, $state, %tags) = @_;
    return { id => $id, private_ip => $ip, public_ip => undef,
             state => $state, tags => \%tags };
}


# every request the fixture saw, as hashes
sub requests {
    open my $fh, '<', $log_file or return ();
    my @r = map { JSON::PP->new->decode($_) } grep { /\S/ } <$fh>;
    close $fh;
    return @r;
}


###########################################################################
# the fixtures: EC2 in clear with IMDS, and EC2 over TLS

my @FIXTURES;       # [pid, its stdout]: closing that waits for it
my @DAEMONS;        # other processes of the test's, to stop at the end

END {
    # the fixtures' exit status must not become the test's
    local $?;

    for my $f (@FIXTURES) {
        kill 'TERM', $f->[0];
        close $f->[1];
    }

    for my $pid (@DAEMONS) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
}

# Starts a fixture with these arguments (a state file and a log of its
# own if they come first: config => FILE, log => FILE); dies unless it
# listens, or returns undef then if asked (may_fail => 1).
sub start_fixture {
    my (@args) = @_;

    my %o = (config => $state_file, log => $log_file);

    while (@args && $args[0] =~ /^(?:config|log|may_fail)$/) {
        my $k = shift @args;
        $o{$k} = shift @args;
    }

    my $pid = open(my $out, '-|');
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>>', "$dir/fixture.err";
        exec $PYTHON, $FIXTURE, '--config', $o{config}, '--log', $o{log},
             @args;
        exit 127;
    }

    push @FIXTURES, [$pid, $out];

    my $line = <$out> // '';

    return $pid if $line =~ /^READY/;
    return undef if $o{may_fail};

    die "the EC2 fixture did not start: " . `cat $dir/fixture.err`;
}

write_state();

my $ec2_port = free_port();
my $imds_port = free_port();
my $tls_port = free_port();
my $closed_port = free_port();      # nothing listens there

start_fixture('--ec2', "127.0.0.1:$ec2_port",
              '--imds', "127.0.0.1:$imds_port");

# a CA that signs a certificate for 127.0.0.1: the client checks it
my $ssl = run_command(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                       '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
                       '-addext', 'subjectAltName=IP:127.0.0.1',
                       '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem"]);
die "openssl: $ssl->{stderr}" if $ssl->{exit};
chmod 0644, "$dir/cert.pem";

start_fixture('--ec2', "127.0.0.1:$tls_port", '--cert', "$dir/cert.pem",
              '--key', "$dir/key.pem");


###########################################################################
# nodes

my %CLUSTER_TIMINGS = %Engram::CLUSTER_TIMINGS;

# a node: gossip on $ip:$gport, its cluster block holding $aws
sub node_config {
    my ($t, %o) = @_;

    my $timings = join '', map { "    $_ $CLUSTER_TIMINGS{$_};\n" }
                           sort keys %CLUSTER_TIMINGS;

    $t->write_config(<<"END");
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 64; }
cluster {
    node_id $o{id};
    listen $o{ip}:$o{gport};
    discovery_refresh 1s;
$timings    $o{aws}
}
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /cluster/discovery/health { discovery_health; }
    }
}
END
}

sub health {
    my ($t) = @_;
    return http_json($t->port('http'), '/cluster/discovery/health') // {};
}

sub aws_status {
    my ($t) = @_;
    my ($m) = grep { $_->{name} eq 'aws' } @{ health($t)->{methods} // [] };
    return $m // {};
}

sub lists_all {
    my ($t, @ids) = @_;

    my $m = cluster_members($t->port('http')) // {};

    return join(',', sort keys %$m) eq join(',', sort @ids)
           && !grep { ($m->{$_}{state} // '') ne 'alive' } @ids;
}


###########################################################################
# credentials from IMDS

subtest 'three nodes find each other with credentials from IMDS' => sub {
    my $gport = free_port();
    my @ids = qw(imds0 imds1 imds2);
    my @ips = map { "127.0.0.20$_" } 1 .. 3;

    # the three, and instances that the filters or the addresses rule out
    $STATE{instances} = [
        (map { instance("i-imds$_", $ips[$_], 'running', $TAG => 'test') }
             0 .. 2),
        instance('i-stopped', '127.0.0.204', 'stopped', $TAG => 'test'),
        instance('i-other', '127.0.0.205', 'running', $TAG => 'other'),
        instance('i-untagged', '127.0.0.206', 'running'),
    ];
    $STATE{imds}{expires_in} = 3600;
    write_state();

    my @n = map { Engram->new } @ids;

    for my $i (0 .. 2) {
        # the last one takes its region from IMDS
        my $region = $i == 2 ? '' : "region=$REGION ";

        node_config($n[$i], id => $ids[$i], ip => $ips[$i], gport => $gport,
                    aws => "aws ${region}tag_key=$TAG tag_value=test "
                           . "endpoint=http://127.0.0.1:$ec2_port "
                           . "imds_endpoint=http://127.0.0.1:$imds_port "
                           . "port=$gport refresh=1s;");

        # no key in the environment: the instance's role it is
        $n[$i]->start(env => { AWS_ACCESS_KEY_ID => undef,
                               AWS_SECRET_ACCESS_KEY => undef,
                               AWS_SESSION_TOKEN => undef });
    }

    for my $i (0 .. 2) {
        ok(wait_for(sub { lists_all($n[$i], @ids) }),
           "$ids[$i] lists the three alive")
            or diag(explain(cluster_members($n[$i]->port('http'))));
    }

    for my $i (0 .. 2) {
        my $s = aws_status($n[$i]);
        is($s->{result}, 'found', "$ids[$i]: aws found peers");
        is($s->{peers}, 2, "$ids[$i]: the two others, no stopped, "
                           . 'untagged or secondary address');
        is($s->{error}, undef, "$ids[$i]: no error");
        is(health($n[$i])->{method}, 'aws', "$ids[$i]: aws won the chain");
    }

    # enough lookups for caching to show
    ok(wait_for(sub {
           (grep { $_->{server} eq 'ec2' && !$_->{next_token} } requests())
           >= 12
       }), 'the nodes keep asking EC2 every second');

    my @r = requests();
    my @ec2 = grep { $_->{server} eq 'ec2' } @r;
    my @imds = grep { $_->{server} eq 'imds' } @r;
    my @creds = grep { ($_->{path} // '') =~ m{credentials/engram-node$} }
                @imds;
    my %issued = map { $_->{access_key} => 1 } @creds;

    is(scalar(grep { $_->{status} != 200 } @ec2), 0,
       'EC2 accepted every signature');
    is(scalar(grep { !$issued{ $_->{access_key} // '' } || !$_->{token} }
              @ec2), 0,
       'every request was signed with a key from IMDS, with its token');
    is(scalar @creds, 3, 'the credentials were fetched once per node, '
                         . 'then kept');
    ok((grep { $_->{next_token} } @ec2), 'the second pages were asked '
                                         . 'for with nextToken');
    is_deeply([sort @{ $ec2[0]{filters} }],
              ['instance-state-name', "tag:$TAG"],
              'by tag and instance-state-name');
    is(scalar(grep { $_->{method} eq 'GET' && !$_->{token_ok} } @imds), 0,
       'every IMDS read carried a session token');
    is(scalar(grep { $_->{method} eq 'PUT' } @imds), 3,
       'one IMDS session token per node');
    is(scalar(grep { ($_->{path} // '') =~ m{placement/region$} } @imds), 1,
       'only the node without a region asked IMDS for it');

    $_->stop for @n;
};


subtest 'credentials are fetched again before they expire' => sub {
    my $gport = free_port();
    my @ids = qw(rot0 rot1);
    my @ips = ('127.0.0.207', '127.0.0.208');

    $STATE{instances} = [
        map { instance("i-rot$_", $ips[$_], 'running', $TAG => 'rotate') }
            0 .. 1
    ];

    # five minutes and three seconds: the nodes refresh at five minutes
    $STATE{imds}{expires_in} = 303;
    write_state();

    my $before = () = requests();
    my @n = map { Engram->new } @ids;

    for my $i (0 .. 1) {
        node_config($n[$i], id => $ids[$i], ip => $ips[$i], gport => $gport,
                    aws => "aws region=$REGION tag_key=$TAG "
                           . 'tag_value=rotate '
                           . "endpoint=http://127.0.0.1:$ec2_port "
                           . "imds_endpoint=http://127.0.0.1:$imds_port "
                           # no port=: the peers' is this node's own
                           . 'refresh=1s;');
        $n[$i]->start(env => { AWS_ACCESS_KEY_ID => undef,
                               AWS_SECRET_ACCESS_KEY => undef });
    }

    my $fetches = sub {
        my @r = requests();
        return grep { ($_->{path} // '') =~ m{credentials/engram-node$} }
               @r[$before .. $#r];
    };

    ok(wait_for(sub { $fetches->() >= 4 }),
       'each node fetched its credentials again');

    ok(wait_for(sub { lists_all($n[0], @ids) && lists_all($n[1], @ids) }),
       'and the nodes found each other');

    my @r = requests();
    @r = @r[$before .. $#r];

    my %issued = map { $_->{access_key} => 1 }
                 grep { ($_->{path} // '') =~ m{credentials/engram-node$} }
                 @r;
    my %used = map { $_->{access_key} => 1 }
               grep { $_->{server} eq 'ec2' } @r;

    cmp_ok(scalar(keys %used), '>=', 3, 'EC2 saw the new keys in use');
    is(scalar(grep { !$issued{$_} } keys %used), 0,
       'and no key IMDS did not give');
    is(scalar(grep { $_->{server} eq 'ec2' && $_->{status} != 200 } @r), 0,
       'no request failed around a rotation');

    # IMDS goes down: the keys in hand hold for five minutes yet
    $STATE{imds}{fail} = 503;
    write_state();

    ok($n[0]->wait_for_log(qr/\[warn\] .*aws discovery: IMDS .* HTTP 503; /
                           . qr/the role's credentials, valid for \d+ s /),
       'a failed refresh is a warning');

    my $down = () = requests();

    ok(wait_for(sub {
           my @r = requests();
           return (grep { $_->{server} eq 'ec2' } @r[$down .. $#r]) >= 4;
       }), 'EC2 is still asked');

    @r = requests();
    @r = @r[$down .. $#r];

    is(scalar(grep { $_->{server} eq 'ec2' && $_->{status} != 200 } @r), 0,
       'with keys that still hold');
    is(aws_status($n[$_])->{result}, 'found', "$ids[$_]: aws still finds")
        for 0 .. 1;

    $STATE{imds}{expires_in} = 3600;
    $STATE{imds}{fail} = undef;
    write_state();

    $_->stop for @n;
};


###########################################################################
# credentials from the environment

subtest 'three nodes find each other with keys from the environment, '
        . 'over HTTPS' => sub {
    my $gport = free_port();
    my @ids = qw(env0 env1 env2);
    my @ips = map { '127.0.0.' . (209 + $_) } 0 .. 2;

    $STATE{instances} = [
        map { instance("i-env$_", $ips[$_], 'running', $TAG => 'env') }
            0 .. 2
    ];
    write_state();

    my $before = () = requests();
    my @n = map { Engram->new } @ids;

    for my $i (0 .. 2) {
        node_config($n[$i], id => $ids[$i], ip => $ips[$i], gport => $gport,
                    aws => "aws region=$REGION tag_key=$TAG tag_value=env "
                           . "endpoint=https://127.0.0.1:$tls_port "
                           . "ca_file=$dir/cert.pem "
                           . "imds_endpoint=http://127.0.0.1:$closed_port "
                           . "port=$gport refresh=1s;");

        # the last one has temporary keys: a session token goes with them
        my %env = $i == 2
            ? (AWS_ACCESS_KEY_ID => $TOKEN_KEY,
               AWS_SECRET_ACCESS_KEY => $TOKEN_SECRET,
               AWS_SESSION_TOKEN => $TOKEN)
            : (AWS_ACCESS_KEY_ID => $ENV_KEY,
               AWS_SECRET_ACCESS_KEY => $ENV_SECRET,
               AWS_SESSION_TOKEN => undef);

        $n[$i]->start(env => \%env);
    }

    for my $i (0 .. 2) {
        ok(wait_for(sub { lists_all($n[$i], @ids) }),
           "$ids[$i] lists the three alive")
            or diag(explain(aws_status($n[$i])));
    }

    my @r = requests();
    @r = @r[$before .. $#r];

    is(scalar(grep { $_->{server} eq 'imds' } @r), 0,
       'IMDS was not asked');
    ok((grep { ($_->{access_key} // '') eq $ENV_KEY && !$_->{token} } @r),
       'requests signed with the long-term key, without a token');
    ok((grep { ($_->{access_key} // '') eq $TOKEN_KEY && $_->{token}
               && grep { $_ eq 'x-amz-security-token' }
                       @{ $_->{signed_headers} } } @r),
       'requests signed with the temporary key, its token signed too');
    is(scalar(grep { $_->{status} != 200 } @r), 0, 'all of them accepted');

    $_->stop for @n;
};


###########################################################################
# the region's own endpoint

# Without endpoint=, a node asks https://ec2.REGION.amazonaws.com: here a
# DNS server of the test's (dnsmasq on loopback, nothing forwarded) says
# that name is 127.0.0.212, where a fixture with a certificate for it
# listens on 443. Binding 443 needs root, as CI runs.

subtest 'without endpoint=, the region\'s endpoint, its name checked' => sub {
    my $DNSMASQ = '/usr/sbin/dnsmasq';
    my $host = 'ec2.eu-west-1.amazonaws.com';
    my $gport = free_port();
    my $dns_port = free_port();
    my @ids = qw(reg0 reg1);
    my @ips = ('127.0.0.213', '127.0.0.214');

    plan skip_all => "no $DNSMASQ (Debian package dnsmasq-base)"
        unless -x $DNSMASQ;

    my $ssl = run_command(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                           '-nodes', '-days', '2', '-subj', "/CN=$host",
                           '-addext', "subjectAltName=DNS:$host",
                           '-keyout', "$dir/region.key",
                           '-out', "$dir/region.pem"]);
    die "openssl: $ssl->{stderr}" if $ssl->{exit};
    chmod 0644, "$dir/region.pem";

    my %state = (%STATE, region => 'eu-west-1', instances => [
        map { instance("i-reg$_", $ips[$_], 'running', $TAG => 'region') }
            0 .. 1
    ]);

    open my $fh, '>', "$dir/region.json" or die "region.json: $!";
    print {$fh} JSON::PP->new->canonical->encode(\%state);
    close $fh;

    start_fixture(config => "$dir/region.json",
                  log => "$dir/region.jsonl", may_fail => 1,
                  '--ec2', '127.0.0.212:443', '--cert', "$dir/region.pem",
                  '--key', "$dir/region.key")
        or plan skip_all => 'cannot listen on 127.0.0.212:443 (not root?)';

    my $dns = fork // die "fork: $!";

    if ($dns == 0) {
        open STDOUT, '>>', "$dir/dnsmasq.out";
        open STDERR, '>&', \*STDOUT;
        exec $DNSMASQ, '--keep-in-foreground', '--no-resolv', '--no-hosts',
             '--conf-file=/dev/null', "--port=$dns_port",
             '--listen-address=127.0.0.1', '--bind-interfaces',
             "--pid-file=$dir/dnsmasq.pid", "--host-record=$host,127.0.0.212",
             '--local=/amazonaws.com/';
        exit 127;
    }

    push @DAEMONS, $dns;

    my @n = map { Engram->new } @ids;

    for my $i (0 .. 1) {
        node_config($n[$i], id => $ids[$i], ip => $ips[$i], gport => $gport,
                    aws => "resolver 127.0.0.1:$dns_port;\n"
                           . "    aws region=eu-west-1 tag_key=$TAG "
                           . "tag_value=region ca_file=$dir/region.pem "
                           . "imds_endpoint=http://127.0.0.1:$closed_port "
                           . "port=$gport refresh=1s;");
        $n[$i]->start(env => { AWS_ACCESS_KEY_ID => $ENV_KEY,
                               AWS_SECRET_ACCESS_KEY => $ENV_SECRET,
                               AWS_SESSION_TOKEN => undef });
    }

    for my $i (0 .. 1) {
        ok(wait_for(sub { lists_all($n[$i], @ids) }),
           "$ids[$i] lists both alive")
            or diag(explain(aws_status($n[$i])));
    }

    open $fh, '<', "$dir/region.jsonl" or die "region.jsonl: $!";
    my @r = map { JSON::PP->new->decode($_) } <$fh>;
    close $fh;

    ok(@r && !grep({ $_->{status} != 200 } @r),
       "$host answered, over TLS, every request signed for eu-west-1");

    $_->stop for @n;
};


###########################################################################
# failures in the health endpoint

subtest 'a wrong secret shows SignatureDoesNotMatch in the health '
        . 'endpoint' => sub {
    my $t = Engram->new;

    node_config($t, id => 'badsecret', ip => '127.0.0.215',
                gport => free_port(),
                aws => "aws region=$REGION tag_key=$TAG tag_value=test "
                       . "endpoint=http://127.0.0.1:$ec2_port "
                       . "imds_endpoint=http://127.0.0.1:$closed_port;");
    $t->start(env => { AWS_ACCESS_KEY_ID => $ENV_KEY,
                       AWS_SECRET_ACCESS_KEY => 'not-the-secret' });

    ok(wait_for(sub { (aws_status($t)->{error} // '') =~ /Signature/ }),
       'the aws method has an error');

    my $s = aws_status($t);
    is($s->{result}, 'error', 'its last result is an error');
    my $said = 'DescribeInstances: HTTP 403 SignatureDoesNotMatch: '
               . 'The request signature we calculated';

    like($s->{error}, qr/^\Q$said\E/, 'EC2\'s code and message');
    ok($t->wait_for_log(qr/\[warn\] .*discovery by aws failed: \Q$said\E/),
       'the log says so');

    $t->stop;
};


subtest 'an unreachable IMDS is an error in the health endpoint, with '
        . 'the tag from the environment' => sub {
    my $t = Engram->new;

    # the file says where IMDS is, the environment what to look for
    node_config($t, id => 'noimds', ip => '127.0.0.216', gport => free_port(),
                aws => "aws endpoint=http://127.0.0.1:$ec2_port "
                       . "imds_endpoint=http://127.0.0.1:$closed_port;");
    $t->start(env => { AWS_ACCESS_KEY_ID => undef,
                       AWS_SECRET_ACCESS_KEY => undef,
                       ENGRAM_CLUSTER_AWS_REGION => $REGION,
                       ENGRAM_CLUSTER_AWS_TAG_KEY => $TAG,
                       ENGRAM_CLUSTER_AWS_TAG_VALUE => 'test' });

    ok(wait_for(sub { (aws_status($t)->{error} // '') =~ /IMDS/ }),
       'the aws method has an error');

    my $said = "IMDS (http://127.0.0.1:$closed_port) for the session token: "
               . "connect() to 127.0.0.1:$closed_port failed (111: Connection "
               . 'refused)';

    is(aws_status($t)->{error}, $said,
       'it names IMDS and what the connection met');

    $t->stop;
};


###########################################################################
# the directive

# "engram -t" of a node whose cluster block holds $aws
sub conf_test {
    my ($aws, %opts) = @_;

    my $t = Engram->new;
    node_config($t, id => 'c', ip => '127.0.0.1', gport => 7946, aws => $aws);

    my @lines = split /\n/, $t->read_file('conf/engram.conf');
    my ($line) = grep { $lines[$_ - 1] =~ /\Q$aws\E/ } 1 .. @lines;

    my $r = $t->run({ env => $opts{env} // {} }, '-t');

    return ($r, $t->path('conf/engram.conf') . ":$line");
}


subtest 'the aws directive refuses what it cannot use' => sub {
    my $in = 'in "aws" directive';
    my $tags = "tag_key=$TAG tag_value=x";
    my @bad = (
        [ "aws region=us-east-1;",
          'aws discovery needs the tag of the instances to find' ],
        [ "aws tag_key=$TAG;",
          'aws discovery needs the tag of the instances to find' ],
        [ "aws region=US_EAST $tags;",
          qq{invalid region "US_EAST" $in} ],
        [ "aws $tags port=0;", qq{invalid port "0" $in, it must be 1 to} ],
        [ "aws $tags port=x;", qq{invalid port "x" $in} ],
        [ "aws $tags address=elastic;",
          qq{invalid address "elastic" $in, it must be "private" or} ],
        [ "aws $tags endpoint=ftp://x/;", qq{invalid endpoint "ftp://x/" $in} ],
        [ "aws $tags endpoint=http://h/?a=b;",
          qq{invalid endpoint "http://h/?a=b" $in} ],
        [ "aws $tags imds_endpoint=http://:80;",
          qq{invalid imds_endpoint "http://:80" $in: it has no host} ],
        [ "aws $tags imds_endpoint=http://h/latest;",
          qq{invalid imds_endpoint "http://h/latest" $in: it must have no} ],
        [ "aws $tags refresh=0;", qq{invalid refresh "0" $in} ],
        [ "aws $tags colour=red;", qq{invalid parameter "colour=red" $in} ],
        [ "aws $tags spare;", qq{invalid parameter "spare" $in} ],
        [ 'aws tag_key= tag_value=x;', qq{invalid tag_key "" $in} ],
        [ "aws $tags; aws $tags;", '"aws" directive is duplicate' ],
        [ "aws $tags port=1 port=2;", qq{duplicate parameter "port" $in} ],
        [ "aws tag_key=a tag_key=b tag_value=x;",
          qq{duplicate parameter "tag_key" $in} ],
    );

    for my $case (@bad) {
        my ($aws, $text) = @$case;
        my ($r, $where) = conf_test($aws);

        isnt($r->{exit}, 0, "\"$aws\" fails the test");
        like($r->{stderr}, qr/\[emerg\] .*\Q$text\E.* in \Q$where\E\n/,
             "\"$aws\": the error says why and where");
    }

    for my $good ("aws $tags;",
                  "aws region=eu-west-1 $tags port=7000 address=public "
                  . 'endpoint=https://ec2.example.com:8443/api '
                  . 'imds_endpoint=http://[::1]:8080 refresh=30s;',
                  "aws_tag_key $TAG; aws_tag_value x; aws_region cn-north-1;",
                  "aws_tag_key $TAG; aws tag_value=x;")
    {
        my ($r) = conf_test($good);
        is($r->{exit}, 0, "\"$good\" passes the test")
            or diag($r->{stderr});
    }
};


subtest 'ENGRAM_CLUSTER_AWS_* override the directive' => sub {
    my ($r) = conf_test('aws region=nope_ tag_key=K tag_value=V;',
                        env => { ENGRAM_CLUSTER_AWS_REGION => 'us-west-2' });
    isnt($r->{exit}, 0, 'the directive is still read');

    ($r) = conf_test('aws region=us-east-1 tag_key=K;',
                     env => { ENGRAM_CLUSTER_AWS_TAG_VALUE => 'v' });
    is($r->{exit}, 0, 'a variable completes the directive')
        or diag($r->{stderr});

    ($r) = conf_test('aws tag_key=K tag_value=V;',
                     env => { ENGRAM_CLUSTER_AWS_REGION => 'Bad Region' });
    isnt($r->{exit}, 0, 'a wrong variable fails the test');
    like($r->{stderr},
         qr/\[emerg\]\ invalid\ region\ "Bad\ Region"\ in\ "aws_region"
            \ directive,\ .*,\ in\ environment\ variable
            \ ENGRAM_CLUSTER_AWS_REGION\n/x,
         'the error names the variable');

    ($r) = conf_test('aws_region us-east-1;',
                     env => { ENGRAM_CLUSTER_AWS_TAG_KEY => 'K' });
    isnt($r->{exit}, 0, 'a tag key without a value fails');
    like($r->{stderr},
         qr/\[emerg\]\ aws\ discovery\ needs\ the\ tag\ .*,\ in\ environment
            \ variable\ ENGRAM_CLUSTER_AWS_TAG_KEY\n/x,
         'naming the variable that turned the method on');
};


done_testing;
