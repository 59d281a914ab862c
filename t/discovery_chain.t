#!/usr/bin/perl

# The discovery chain's fallback, with real parts: a node whose static
# seed does not resolve and whose DNS server is down finds its peer
# through the Kubernetes API (the fixture API server of
# t/lib/k8s_fixture.py); the health endpoint shows each method's result
# in order.  Before the API server is up, every method fails: the node is
# a cluster of one, the failures are reported, and the chain keeps
# trying until the API server answers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Engram qw(wait_for free_port cluster_members run_command);


my $FIXTURE = "$FindBin::Bin/lib/k8s_fixture.py";
my ($PYTHON) = grep { -x } map { "$_/python3" } split /:/, $ENV{PATH};

plan skip_all => 'python3 is needed for the fixture API server'
    unless $PYTHON;

my $probe = Engram->new;
my $built = $probe->run({ bare => 1 }, '-V')->{stderr} // '';

plan skip_all => 'engram is built without the DNS or Kubernetes method'
    unless $built =~ /eg_discovery_dns_module/
           && $built =~ /eg_discovery_k8s_module/;

my $dir = tempdir('engram-chain-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

my $TOKEN = 'chain-test-token';

sub put {
    my ($name, $text) = @_;
    open my $fh, '>', $name or die "$name: $!";
    print {$fh} $text;
    close $fh;
}

my $r = run_command(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                     '-nodes', '-days', '2', '-subj', '/CN=kubernetes',
                     '-addext', 'subjectAltName=IP:127.0.0.1',
                     '-keyout', "$dir/key.pem", '-out', "$dir/cert.pem"]);
die "openssl: $r->{stderr}" if $r->{exit};
chmod 0644, "$dir/key.pem";

put("$dir/token", "$TOKEN\n");
put("$dir/token.expected", "$TOKEN\n");


# a port where nothing listens, UDP and TCP
sub dead_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'udp') or die "udp: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

my $api_port = free_port();
my $dns_port = dead_port();
my $gport = free_port();

my $fixture;

END {
    local $?;
    if ($fixture) {
        kill 'TERM', $fixture;
        waitpid($fixture, 0);
    }
}

sub start_api {
    $fixture = fork // die "fork: $!";

    if ($fixture == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/api.err";
        open STDERR, '>>', "$dir/api.err";
        exec $PYTHON, $FIXTURE, '--cert', "$dir/cert.pem",
             '--key', "$dir/key.pem", '--token', "$dir/token.expected",
             '--pods', "$dir/pods.json", '--log', "$dir/api.log",
             '--port-file', "$dir/api.port", '--port', $api_port;
        exit 127;
    }

    return wait_for(sub { -s "$dir/api.port" }, 10);
}


my %T = %Engram::CLUSTER_TIMINGS;
my $timings = join '', map { "    $_ $T{$_};\n" } sort keys %T;

sub config {
    my ($t, $id, $ip, $methods) = @_;

    $t->{gossip_ip} = $ip;

    $t->write_config(<<"END");
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 64; }
cluster {
    node_id $id;
    listen $ip:$gport;
    discovery_refresh 1s;
    discovery_timeout 2s;
$timings$methods
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

sub alive {
    my ($t) = @_;
    my $m = cluster_members($t->port('http')) // {};
    return join ' ', sort grep { ($m->{$_}{state} // '') eq 'alive' }
                          keys %$m;
}

sub methods {
    my ($t) = @_;
    my $h = $t->discovery_health // {};
    return { map { $_->{name} => $_ } @{ $h->{methods} // [] } };
}


my ($a, $b) = (Engram->new, Engram->new);

config($a, 'ca', '127.0.0.191', '');
config($b, 'cb', '127.0.0.192', <<"END");
    seeds nowhere.invalid:$gport;
    resolver 127.0.0.1:$dns_port timeout=300ms;
    dns_srv _engram._tcp.chain.test;
    kubernetes api_server=https://127.0.0.1:$api_port ca_file=$dir/cert.pem token_file=$dir/token namespace=default label_selector=app=engram port=$gport refresh=1s;
END

put("$dir/pods.json", JSON::PP->new->encode([
    { name => 'engram-ca', ip => '127.0.0.191',
      labels => { app => 'engram' } },
]));

$a->start;
$b->start;


subtest 'every method down: a cluster of one, reported, retried' => sub {
    my $m;

    # an attempt is counted when it starts: read the methods when none
    # is under way
    ok(wait_for(sub {
           $m = methods($b);
           return ($m->{kubernetes}{attempts} // 0) >= 2
                  && !grep { ($_->{result} // '') eq 'running' } values %$m;
       }, 20), 'the chain went through every method, twice')
        or diag(explain($m));

    is_deeply([map { $_->{name} }
               @{ ($b->discovery_health // {})->{methods} // [] }],
              [qw(static dns kubernetes)], 'in the default order');

    for my $name (qw(static dns kubernetes)) {
        is($m->{$name}{result}, 'error', "$name failed");
        ok(length($m->{$name}{error} // ''), "and says why: "
                                              . ($m->{$name}{error} // ''));
    }

    is(($b->discovery_health // {})->{method}, undef, 'no method won');
    is(alive($b), 'cb', 'cb is a cluster of one');
};


subtest 'static empty, DNS down, Kubernetes answers' => sub {
    ok(start_api(), 'the API server comes up');

    ok(wait_for(sub { alive($b) eq 'ca cb' }, 20),
       'cb found ca through the Kubernetes API and joined it');

    my $h = $b->discovery_health // {};
    is($h->{method}, 'kubernetes', 'the health endpoint names the method');

    my $m = methods($b);
    is($m->{static}{result}, 'error', 'static seeds still fail');
    is($m->{dns}{result}, 'error', 'so does DNS');
    is($m->{kubernetes}{result}, 'found', 'Kubernetes found the peer');
    is($m->{kubernetes}{peers}, 1, 'one');
};


$_->stop for $a, $b;

done_testing;
