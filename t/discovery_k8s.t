#!/usr/bin/perl

# Kubernetes discovery against a fixture API server (t/lib/k8s_fixture.py:
# HTTPS on 127.0.0.1 with a certificate made here, a bearer token it
# checks, pod lists in the API server's format):
#
#   - three nodes whose pods' IPs are their gossip addresses find each
#     other; the pods that are not Running and Ready, are being deleted,
#     or do not match the namespace and selector are no peers;
#   - the pods are listed again at every refresh;
#   - a wrong token shows the API server's 401 in the health endpoint, and
#     the token file rotated makes it work again;
#   - a server the CA file does not vouch for is refused;
#   - without a namespace, the one of the namespace file is used;
#   - inside a pod the API server comes from KUBERNETES_SERVICE_HOST and
#     _PORT, and ENGRAM_CLUSTER_DISCOVERY_* override the file (here with
#     an API server that answers in chunks);
#   - the "kubernetes" directives refuse what they cannot use, naming file
#     and line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Engram qw(wait_for free_port http_json cluster_members metrics
              run_command);


my $FIXTURE = "$FindBin::Bin/lib/k8s_fixture.py";
my ($PYTHON) = grep { -x } map { "$_/python3" } split /:/, $ENV{PATH};

plan skip_all => 'python3 is needed for the fixture API server'
    unless $PYTHON;

my $dir = tempdir('engram-k8s-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

# the cluster process runs as an unprivileged user: it must read the
# token and the CA, as a pod's user reads its service account's
chmod 0755, $dir;

my $TOKEN = 'eyJhbGciOiJSUzI1NiJ9.engram-test-token.c2lnbmF0dXJl';


# writes a file whole, by rename, as kubelet swaps a projected volume
sub put {
    my ($name, $text) = @_;

    open my $fh, '>', "$name.new" or die "$name: $!";
    print {$fh} $text;
    close $fh;
    rename "$name.new", $name or die "rename $name: $!";
}


sub pods {
    put("$dir/pods.json", JSON::PP->new->canonical->encode([@_]));
}


# a pod of the fixture's short form
sub pod {
    my ($name, $ip, %o) = @_;
    return { name => $name, (defined $ip ? (ip => $ip) : ()),
             labels => { app => 'engram' }, %o };
}


# every request a fixture saw, as hashes
sub requests {
    my ($log) = @_;

    open my $fh, '<', $log or return ();
    my @r = map { JSON::PP->new->decode($_) } grep { /\S/ } <$fh>;
    close $fh;

    return @r;
}


###########################################################################
# the fixtures

my @FIXTURES;

END {
    local $?;   # the fixtures' ends are not the test's

    for my $pid (@FIXTURES) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
}

# starts one; returns its port once it accepts connections
sub start_fixture {
    my ($name, @args) = @_;

    my $port_file = "$dir/$name.port";

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/$name.err";
        open STDERR, '>>', "$dir/$name.err";
        exec $PYTHON, $FIXTURE, '--cert', "$dir/cert.pem",
             '--key', "$dir/key.pem", '--token', "$dir/token.expected",
             '--pods', "$dir/pods.json", '--log', "$dir/$name.log",
             '--port-file', $port_file, @args;
        exit 127;
    }

    push @FIXTURES, $pid;

    wait_for(sub { -s $port_file }, 10)
        or die "the fixture API server did not start: "
               . (`cat $dir/$name.err` // '');

    open my $fh, '<', $port_file or die "$port_file: $!";
    my $port = <$fh>;
    close $fh;
    chomp $port;

    return $port;
}


# a certificate for 127.0.0.1, self-signed: the CA file of the nodes
sub certificate {
    my ($name, $cn) = @_;

    my $r = run_command(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                         '-nodes', '-days', '2', '-subj', "/CN=$cn",
                         '-addext', 'subjectAltName=IP:127.0.0.1',
                         '-keyout', "$dir/$name.key",
                         '-out', "$dir/$name.pem"]);
    die "openssl: $r->{stderr}" if $r->{exit};
}

certificate('cert', 'kubernetes');
rename "$dir/cert.key", "$dir/key.pem";
certificate('other', 'someone-else');

put("$dir/token.expected", "$TOKEN\n");
put("$dir/token", "$TOKEN\n");
pods();

my $api = start_fixture('api');
my $chunked = start_fixture('chunked', '--chunked');


###########################################################################
# nodes

my %CLUSTER_TIMINGS = %Engram::CLUSTER_TIMINGS;
my $gport = free_port();        # the gossip port of every pod

# a node with gossip on $ip:$gport; $k8s the kubernetes directive(s)
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
    listen $o{ip}:$gport;
    discovery_refresh 1s;
$timings    $o{k8s}
}
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /cluster/discovery/health { discovery_health; }
        location = /metrics { metrics; }
    }
}
END
}

sub k8s_directive {
    my (%o) = @_;

    my $ca = $o{ca} // "$dir/cert.pem";

    return "kubernetes api_server=https://127.0.0.1:$api ca_file=$ca "
           . "token_file=$dir/token namespace=default "
           . "label_selector=app=engram port=$gport refresh=1s;";
}

sub health {
    my ($t) = @_;
    return http_json($t->port('http'), '/cluster/discovery/health') // {};
}

sub k8s_status {
    my ($t) = @_;
    my ($m) = grep { $_->{name} eq 'kubernetes' }
              @{ health($t)->{methods} // [] };
    return $m // {};
}

sub lists_all {
    my ($t, @ids) = @_;

    my $m = cluster_members($t->port('http')) // {};

    return join(',', sort keys %$m) eq join(',', sort @ids)
           && !grep { ($m->{$_}{state} // '') ne 'alive' } @ids;
}


my @ids = qw(k0 k1 k2);
my @ips = map { "127.0.0.18$_" } 1 .. 3;
my @n = map { Engram->new } @ids;

# the three, and the pods that are no peers (nothing listens there)
my @PODS = (
    (map { pod("engram-$_", $ips[$_]) } 0 .. 2),
    pod('engram-starting', '127.0.0.184', ready => JSON::PP::false),
    pod('engram-pending', undef, phase => 'Pending'),
    pod('engram-leaving', '127.0.0.185', deleting => JSON::PP::true),
    pod('engram-done', '127.0.0.186', phase => 'Succeeded'),
    pod('web-0', '127.0.0.187', labels => { app => 'web' }),
    pod('engram-0', '127.0.0.188', namespace => 'staging'),
);


subtest 'pods that are Running and Ready find each other' => sub {
    pods(@PODS);

    for my $i (0 .. 2) {
        node_config($n[$i], id => $ids[$i], ip => $ips[$i],
                    k8s => k8s_directive());
        $n[$i]->start;
    }

    for my $i (0 .. 2) {
        ok(wait_for(sub { lists_all($n[$i], @ids) }),
           "$ids[$i] lists the three alive")
            or diag(explain(cluster_members($n[$i]->port('http'))));
    }

    for my $i (0 .. 2) {
        my $s = k8s_status($n[$i]);

        is($s->{result}, 'found', "$ids[$i]: kubernetes found peers");
        is($s->{peers}, 2, "$ids[$i]: the two others, none of the pods "
                           . 'that are not peers');
        is($s->{error}, undef, "$ids[$i]: no error");
        is(health($n[$i])->{method}, 'kubernetes',
           "$ids[$i]: kubernetes won the chain");
        is((metrics($n[$i]->port('http')) // {})->{engram_peers_discovered},
           2, "$ids[$i]: engram_peers_discovered is 2");
    }
};


subtest 'the request is the API server\'s pod list, with the token' => sub {
    my @r = requests("$dir/api.log");

    ok(@r >= 3, 'the fixture was asked') or return;

    my %paths = map { ("$_->{method} $_->{path}?$_->{query}" => 1) } @r;
    is_deeply([keys %paths],
              ['GET /api/v1/namespaces/default/pods?'
               . 'labelSelector=app%3Dengram'],
              'GET of the namespace\'s pods, the selector URL-encoded');

    is_deeply([sort keys %{{ map { ($_->{headers}{authorization} => 1) }
                             @r }}],
              ["Bearer $TOKEN"], 'the token as a bearer');
    is($r[0]{headers}{host}, "127.0.0.1:$api", 'Host names the server');
    is($r[0]{headers}{accept}, 'application/json', 'JSON is asked for');
    is($r[0]{status}, 200, 'and answered');
};


subtest 'the pods are listed again at every refresh' => sub {
    my @more = map { { %$_ } } @PODS;
    $_->{ready} = JSON::PP::true for grep { $_->{name} eq 'engram-starting' }
                                    @more;
    pods(@more);

    ok(wait_for(sub { (k8s_status($n[0])->{peers} // 0) == 3 }),
       'a pod that became Ready is a peer at the next round');

    pods(@PODS);

    ok(wait_for(sub { (k8s_status($n[0])->{peers} // 0) == 2 }),
       'and no more once it is not');
};


subtest 'a wrong token is an error, the rotated token works again' => sub {
    put("$dir/token", "not-the-token\n");

    my $s;
    ok(wait_for(sub {
           $s = k8s_status($n[0]);
           return ($s->{result} // '') eq 'error';
       }), 'the lookup fails') or diag(explain($s));

    like($s->{error} // '', qr/401: Unauthorized/,
         'the health endpoint shows the API server\'s 401 and its message');
    ok(grep({ $_->{status} == 401 } requests("$dir/api.log")),
       'the fixture refused the token');
    ok(lists_all($n[0], @ids), 'the members stay');

    put("$dir/token", "$TOKEN\n");

    ok(wait_for(sub {
           $s = k8s_status($n[0]);
           return ($s->{result} // '') eq 'found' && !defined $s->{error};
       }), 'the token file rotated: found again, no error')
        or diag(explain($s));
    is($s->{peers}, 2, 'the two others');
};


subtest 'a server the CA file does not vouch for is refused' => sub {
    my $t = Engram->new;

    node_config($t, id => 'kca', ip => '127.0.0.190',
                k8s => k8s_directive(ca => "$dir/other.pem"));
    $t->start;

    my $s;
    ok(wait_for(sub {
           $s = k8s_status($t);
           return ($s->{result} // '') eq 'error';
       }), 'the lookup fails') or diag(explain($s));

    like($s->{error} // '', qr/certificate verify failed/,
         'because of the certificate');
    is_deeply([sort keys %{ cluster_members($t->port('http')) // {} }],
              ['kca'], 'no peer was found');

    $t->stop;
};


subtest 'the namespace of the namespace file, read at every lookup' => sub {
    my $t = Engram->new;

    put("$dir/namespace", "staging\n");

    node_config($t, id => 'kns', ip => '127.0.0.191',
                k8s => "kubernetes api_server=https://127.0.0.1:$api "
                       . "ca_file=$dir/cert.pem token_file=$dir/token "
                       . "namespace_file=$dir/namespace "
                       . "label_selector=app=engram port=$gport;");
    $t->start;

    ok(wait_for(sub { (k8s_status($t)->{peers} // 0) == 1 }),
       'the pod of the namespace "staging" is found')
        or diag(explain(k8s_status($t)));

    put("$dir/namespace", "default\n");

    ok(wait_for(sub { lists_all($t, @ids, 'kns') }),
       'the namespace file changed: the pods of "default" are joined');

    $t->stop;
};


subtest 'in a pod: the API server from its service, and the environment' =>
sub {
    my $t = Engram->new;

    # the file's namespace and selector find nothing: the variables win
    node_config($t, id => 'kenv', ip => '127.0.0.189',
                k8s => 'kubernetes namespace=nowhere label_selector=app=none '
                       . "port=$gport;");

    $t->start(env => {
        KUBERNETES_SERVICE_HOST => '127.0.0.1',
        KUBERNETES_SERVICE_PORT => $chunked,
        ENGRAM_CLUSTER_DISCOVERY_NAMESPACE => 'default',
        ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR => 'app=engram',
        ENGRAM_CLUSTER_KUBERNETES_TOKEN_FILE => "$dir/token",
        ENGRAM_CLUSTER_KUBERNETES_CA_FILE => "$dir/cert.pem",
    });

    ok(wait_for(sub { lists_all($t, @ids, 'kenv') }),
       'it joins the three through the chunked API server')
        or diag(explain(k8s_status($t)));
    # (the node of the namespace file left: it may still be listed so)
    ok(wait_for(sub {
           my $m = cluster_members($n[0]->port('http')) // {};
           return !grep { ($m->{$_}{state} // '') ne 'alive' }
                  @ids, 'kenv';
       }), 'and they list it');

    my @r = requests("$dir/chunked.log");
    ok(@r, 'the API server of KUBERNETES_SERVICE_HOST/PORT was asked');
    is($r[0]{query} // '', 'labelSelector=app%3Dengram',
       'with the selector of the environment');
    like($r[0]{path} // '', qr{^/api/v1/namespaces/default/pods$},
         'and its namespace');

    $t->stop;
};


###########################################################################
# configuration errors

# engram -t on a cluster block of $body (from line 4)
sub conf_check {
    my ($t, $body, %env) = @_;

    $t->write_config("%%TEST_GLOBALS%%\n"
                     . "events { worker_connections 64; }\n"
                     . "cluster {\n    listen 127.0.0.1:$gport;\n$body}\n");

    return $t->run({ env => { KUBERNETES_SERVICE_HOST => undef,
                              KUBERNETES_SERVICE_PORT => undef, %env } },
                   '-t');
}

sub refused {
    my ($t, $r, $text, $line, $name) = @_;

    is($r->{exit}, 1, "$name: engram -t exits 1");
    like($r->{stderr},
         qr/\[emerg\] .*\Q$text\E.* in \Q${\ $t->path($t->conf) }\E:$line$/m,
         "$name: the message says why, and file:line")
        or diag($r->{stderr});
}


subtest 'the kubernetes directives refuse what they cannot use' => sub {
    my $t = Engram->new;
    my $base = "api_server=https://127.0.0.1:$api label_selector=app=engram";

    my $r = conf_check($t, "    kubernetes $base namespace=default;\n");
    is($r->{exit}, 0, 'a good one passes') or diag($r->{stderr});

    refused($t, conf_check($t, "    kubernetes namespace=default;\n"),
            '"kubernetes" needs a label_selector', 5, 'no selector');

    refused($t, conf_check($t, "    kubernetes $base selector=x;\n"),
            'invalid parameter "selector=x" in "kubernetes"', 5,
            'unknown parameter');

    refused($t, conf_check($t, "    kubernetes $base namespace;\n"),
            'invalid parameter "namespace" in "kubernetes"', 5,
            'parameter without a value');

    refused($t, conf_check($t, "    kubernetes $base namespace=Prod_1;\n"),
            'invalid kubernetes namespace "Prod_1"', 5, 'bad namespace');

    refused($t, conf_check($t, "    kubernetes label_selector= "
                               . "api_server=https://127.0.0.1:1;\n"),
            'invalid kubernetes label selector ""', 5, 'empty selector');

    refused($t, conf_check($t, "    kubernetes $base port=70000;\n"),
            'invalid kubernetes port "70000"', 5, 'bad port');

    refused($t, conf_check($t, "    kubernetes $base refresh=0;\n"),
            'invalid kubernetes refresh "0"', 5, 'zero refresh');

    refused($t, conf_check($t, "    kubernetes label_selector=a=b "
                               . "api_server=ftp://127.0.0.1/;\n"),
            'invalid kubernetes api_server "ftp://127.0.0.1/"', 5,
            'api_server not http(s)');

    refused($t, conf_check($t, "    kubernetes label_selector=a=b "
                               . "api_server=https://127.0.0.1/x?y=1;\n"),
            'a query has no place in it', 5, 'api_server with a query');

    refused($t, conf_check($t, "    kubernetes $base token_file=;\n"),
            'empty kubernetes "token_file"', 5, 'empty token_file');

    refused($t, conf_check($t, "    kubernetes label_selector=a=b;\n"),
            'KUBERNETES_SERVICE_HOST is not set', 5,
            'no api_server outside a pod');

    refused($t, conf_check($t, "    kubernetes $base;\n"
                               . "    kubernetes $base;\n"),
            '"kubernetes" directive is duplicate', 6, 'twice');

    refused($t, conf_check($t, "    kubernetes $base;\n"
                               . "    kubernetes_label_selector app=x;\n"),
            'kubernetes "label_selector" is set twice', 6,
            'a parameter and its directive');

    refused($t, conf_check($t, "    kubernetes_label_selector app=x;\n"
                               . "    kubernetes_port 0;\n"),
            'invalid kubernetes port "0"', 6, 'a directive of its own');

    $r = conf_check($t, "    kubernetes_label_selector app=x;\n");
    refused($t, $r, 'KUBERNETES_SERVICE_HOST is not set', 5,
            'a selector alone turns the method on');

    $r = conf_check($t, "    kubernetes $base namespace=default;\n",
                    ENGRAM_CLUSTER_DISCOVERY_NAMESPACE => 'Bad!');
    is($r->{exit}, 1, 'a bad variable: engram -t exits 1');
    my $var = 'ENGRAM_CLUSTER_DISCOVERY_NAMESPACE';
    my $text = 'invalid kubernetes namespace "Bad!"';
    like($r->{stderr},
         qr/\[emerg\] \Q$text\E.*, in environment variable $var$/m,
         'the message names the variable') or diag($r->{stderr});

    $r = conf_check($t, "    kubernetes $base;\n",
                    ENGRAM_CLUSTER_KUBERNETES_API_SERVER =>
                        "http://127.0.0.1:$api/");
    is($r->{exit}, 0, 'an api_server from the environment is taken')
        or diag($r->{stderr});

    $r = conf_check($t, "    kubernetes namespace=default;\n",
                    ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR => 'app=engram',
                    KUBERNETES_SERVICE_HOST => '127.0.0.1');
    is($r->{exit}, 0, 'the selector from the environment, the API server '
                      . 'from the service variables') or diag($r->{stderr});
};


for my $t (@n) {
    ok($t->stop, 'the node stops');
}

done_testing;
