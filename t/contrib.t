#!/usr/bin/perl

# The deployment examples of contrib/ and the operations guide say only
# what engram does: every YAML file parses; the Kubernetes objects fit
# together, and "engram -t" accepts the ConfigMap's engram.conf with the
# environment a pod of the StatefulSet gets; each docker-compose node's
# environment passes "engram -t" with the image's configuration; the
# Dockerfile copies what exists and installs the libraries the binary
# needs; promtool accepts the Prometheus files and the rules fire when
# they should (their unit tests), on metrics a running node has; and in
# docs/operations.md every configuration passes "engram -t", the keyrings
# of a rotation are valid and in the right order, and the commands,
# variables, metrics, queries and links are real.
#
# An ENGRAM_* variable engram does not know is silently ignored, so the
# names are checked against the table of docs/configuration.md and the
# tables of the source.  Docker is not run: no image is built.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Basename qw(basename dirname);
use File::Temp qw(tempdir);
use JSON::PP qw(decode_json);
use Test::More;
use Engram qw(wait_for metrics run_command);


my $TOP = "$FindBin::Bin/..";
my $CONTRIB = "$TOP/contrib";

# Debian's python3-yaml, whatever python3 comes first in PATH
my $PYTHON = '/usr/bin/python3';

my $PROMTOOL = (grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH})[0];

# what the downward API gives a pod in these tests
my %DOWNWARD = (
    'metadata.name'      => 'engram-0',
    'metadata.namespace' => 'engram',
    'status.podIP'       => '10.244.1.7',
    'status.hostIP'      => '192.0.2.10',
    'spec.nodeName'      => 'node-a',
);

# what Kubernetes puts in the environment of every pod
my %POD_ENV = (
    KUBERNETES_SERVICE_HOST => '10.96.0.1',
    KUBERNETES_SERVICE_PORT => '443',
);


###########################################################################
# helpers

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}


my $HAVE_YAML = -x $PYTHON
    && run_command([$PYTHON, '-c', 'import yaml'])->{exit} == 0;


# every document of a YAML file, through JSON
sub yaml_docs {
    my ($path) = @_;

    my $r = run_command([$PYTHON, '-c', <<'EOF', $path]);
import json, sys, yaml
with open(sys.argv[1]) as f:
    print(json.dumps(list(yaml.safe_load_all(f))))
EOF

    die "$path does not parse: $r->{stderr}" if $r->{exit} != 0;

    return @{ decode_json($r->{stdout}) };
}


# The variables engram knows: in the table of docs/configuration.md, and
# in a table of the source.  ENGRAM_CLUSTER_MODE is in neither table.
sub known_variables {
    my $doc = slurp("$TOP/docs/configuration.md");
    my ($table) = $doc =~ /\n## Environment variables\n(.*?)\n## /s
        or die 'docs/configuration.md has no "Environment variables"';

    my %doc = map { $_ => 1 } $table =~ /^\| `(ENGRAM_[A-Z_]+)` \|/mg;
    $doc{ENGRAM_CLUSTER_MODE} = 1 if $table =~ /`ENGRAM_CLUSTER_MODE`/;

    my %src;

    for my $file (glob("$TOP/src/*/*.c"), glob("$TOP/src/*/*/*.c")) {
        $src{$_} = 1 for slurp($file) =~ /"(ENGRAM_[A-Z_]+)"/g;
    }

    return { map { $_ => 1 } grep { $src{$_} } keys %doc };
}

my $KNOWN = known_variables();


# the names of a list of variables that engram does not know
sub unknown_variables {
    my (@names) = @_;
    return grep { /^ENGRAM_/ && !$KNOWN->{$_} } @names;
}


my $BUILT = do {
    my $r = run_command([Engram->new->binary, '-V']);
    $r->{stdout} . $r->{stderr};
};

sub built {
    my ($module) = @_;
    return $BUILT =~ /\b$module\b/;
}


# "engram -t" of a configuration text with these variables; the result
# of Engram::run, and the path of the file
sub engram_test {
    my ($text, $env, %opts) = @_;

    my $t = Engram->new;
    my $conf = $t->write_file('conf/engram.conf', $text);

    $t->write_file("conf/$_", $opts{files}{$_}) for keys %{ $opts{files} };
    $t->allow_log($opts{allow}) if $opts{allow};

    # only what is given: nothing of the test's own environment counts
    my %env = (%{ $env // {} });
    $env{$_} //= undef for qw(KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT);

    my $r = $t->run({ env => \%env }, '-t');
    $r->{conf} = $conf;

    return $r;
}


sub test_ok {
    my ($r, $name) = @_;

    ok($r->{exit} == 0 && $r->{stderr} =~ /test is successful/, $name)
        or diag("$r->{conf}:\n" . slurp($r->{conf}) . $r->{stderr});
}


# the values of a container's env list as Kubernetes would set them:
# the downward API's fields, and $(NAME) of a variable defined before
sub k8s_env {
    my ($list) = @_;
    my %env;

    for my $e (@$list) {
        my $value;

        if (exists $e->{value}) {
            $value = $e->{value};
            $value =~ s/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/
                        exists $env{$1} ? $env{$1} : "\$($1)"/ge;

        } elsif (my $f = $e->{valueFrom}{fieldRef}) {
            $value = $DOWNWARD{ $f->{fieldPath} }
                // die "no downward value for $f->{fieldPath}";

        } else {
            die "env $e->{name}: neither value nor fieldRef";
        }

        $env{ $e->{name} } = $value;
    }

    return \%env;
}


# the HTTP ports, and the exact locations with their handler, of an
# engram.conf
sub http_of_conf {
    my ($text) = @_;

    (my $plain = $text) =~ s/#[^\n]*//g;
    my ($http) = $plain =~ /\bhttp\s*\{(.*)\}/s;
    return ({}, {}) unless defined $http;

    my %ports = map { $_ => 1 }
                $http =~ /\blisten\s+(?:\S*:)?(\d+)\b[^;]*;/g;
    my %locations;

    while ($http =~ /\blocation\s+=\s+(\S+)\s*\{([^}]*)\}/g) {
        my ($path, $body) = ($1, $2);
        $locations{$path} = $1
            if $body =~ /\b(health|metrics|cluster_members|discovery_health
                            |status_page)\s*;/x;
    }

    return (\%ports, \%locations);
}


###########################################################################
# the metrics of a running node, for the rules and the guide

sub live_metrics {
    my $t = Engram->new;
    my $gossip = Engram::free_port();
    my $nobody = Engram::free_port();
    my $group = Engram::free_port();

    # nothing leaves the host: the seed is a closed port of 127.0.0.1,
    # and multicast goes out on lo with a TTL of 0
    my $mcast = built('eg_discovery_mcast_module')
        ? "multicast 239.255.42.99:$group ttl=0 interface=lo interval=1s;"
        : '';

    $t->write_config(<<"EOF");
%%TEST_GLOBALS%%
worker_processes 1;
events { worker_connections 64; }
cluster {
    node_id live;
    listen 127.0.0.1:$gossip;
    seeds 127.0.0.1:$nobody;
    join_retry_interval 100ms;
    $mcast
}
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /metrics { metrics; }
    }
}
EOF

    $t->start;

    my $port = $t->port('http');

    # the cluster process's first figures, and a request counted
    wait_for(sub {
        my $m = metrics($port);
        $m && grep { /^engram_discovery_attempts_total\{/ && $m->{$_} > 0 }
                   keys %$m;
    }) or diag('the node never counted a discovery');

    my $m = metrics($port);
    $t->stop;

    my %names;

    for my $key (keys %$m) {
        my ($name, $labels) = $key =~ /^(\w+)(?:\{(.*)\})?$/ or next;
        my %l = ($labels // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;

        for my $n ($name, $name =~ /^(\w+)_(?:bucket|sum|count)$/) {
            push @{ $names{$n} }, \%l;
        }
    }

    return \%names;
}


# the metric names of PromQL (or of text), without what is quoted
sub metric_names {
    my ($text) = @_;
    $text =~ s/"(?:[^"\\]|\\.)*"//g;
    my %n = map { $_ => 1 }
            $text =~ /\b((?:engram|process)_[a-z_]*[a-z])\b(?!\*)/g;
    return sort keys %n;
}


###########################################################################
# YAML

subtest 'every YAML file of contrib/ parses' => sub {
    plan skip_all => "$PYTHON with yaml is missing (Debian python3-yaml; "
                     . 'auto/deps --test installs it)' unless $HAVE_YAML;

    my @files = grep { -f } map { glob("$CONTRIB/*/$_") }
                ('*.yml', '*.yaml');

    ok(scalar @files >= 5, scalar(@files) . ' YAML files');

    for my $file (@files) {
        my @docs = eval { yaml_docs($file) };
        ok(!$@ && @docs && !grep({ !defined } @docs),
           'parses: ' . substr($file, length($TOP) + 1))
            or diag($@);
    }

    ok(!eval { yaml_docs($CONTRIB . '/kubernetes/engram.yaml.missing') },
       'a file that is not there fails');

    my $bad = tempdir(CLEANUP => 1) . '/bad.yml';
    open my $fh, '>', $bad or die $!;
    print $fh "a: [1, 2\nb: c\n";
    close $fh;

    ok(!eval { yaml_docs($bad) }, 'and so does YAML that is not');
};


subtest 'the variables are checked against the ones engram knows' => sub {
    ok($KNOWN->{ENGRAM_CLUSTER_SEEDS}, 'ENGRAM_CLUSTER_SEEDS is known');
    ok($KNOWN->{ENGRAM_CLUSTER_DISCOVERY_NAMESPACE},
       'ENGRAM_CLUSTER_DISCOVERY_NAMESPACE is known');
    ok($KNOWN->{ENGRAM_CLUSTER_MODE}, 'ENGRAM_CLUSTER_MODE is known');

    is_deeply([ unknown_variables(qw(ENGRAM_CLUSTER_NAMESPACE
                                     ENGRAM_CLUSTER_SEED
                                     ENGRAM_CLUSTER_SEEDS)) ],
              [qw(ENGRAM_CLUSTER_NAMESPACE ENGRAM_CLUSTER_SEED)],
              'a name engram does not know is caught');
};


###########################################################################
# Kubernetes

subtest 'Kubernetes: the objects fit together' => sub {
    plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;

    my @docs = map { yaml_docs($_) } glob("$CONTRIB/kubernetes/*.yaml");
    my %kind;
    push @{ $kind{ $_->{kind} } }, $_ for @docs;

    for my $k (qw(StatefulSet Service ServiceAccount Role RoleBinding
                  ConfigMap))
    {
        is(scalar @{ $kind{$k} // [] }, 1, "one $k");
    }

    my ($sts) = @{ $kind{StatefulSet} // [] } or return;
    my ($svc) = @{ $kind{Service} };
    my ($sa) = @{ $kind{ServiceAccount} };
    my ($role) = @{ $kind{Role} };
    my ($rb) = @{ $kind{RoleBinding} };
    my ($cm) = @{ $kind{ConfigMap} };

    my $ns = $sts->{metadata}{namespace} // 'default';
    my $pod = $sts->{spec}{template};
    my $labels = $pod->{metadata}{labels};

    is($sts->{spec}{replicas}, 3, 'three replicas');

    for my $o ($svc, $sa, $role, $rb, $cm) {
        is($o->{metadata}{namespace} // 'default', $ns,
           "$o->{kind} in the namespace $ns");
    }

    # the headless Service
    is($sts->{spec}{serviceName}, $svc->{metadata}{name},
       'serviceName is the Service');
    is($svc->{spec}{clusterIP}, 'None', 'the Service is headless');
    ok($svc->{spec}{publishNotReadyAddresses},
       'it publishes pods that are not ready');

    for my $sel ([ 'the Service', $svc->{spec}{selector} ],
                 [ 'the StatefulSet', $sts->{spec}{selector}{matchLabels} ])
    {
        ok(%{ $sel->[1] }
           && !grep({ ($labels->{$_} // "\0") ne $sel->[1]{$_} }
                    keys %{ $sel->[1] }),
           "$sel->[0] selects the pods");
    }

    # RBAC
    is($pod->{spec}{serviceAccountName}, $sa->{metadata}{name},
       'the pods run as the ServiceAccount');
    ok((grep { grep({ $_ eq '' } @{ $_->{apiGroups} })
               && grep({ $_ eq 'pods' } @{ $_->{resources} })
               && grep({ $_ eq 'list' } @{ $_->{verbs} })
               && grep({ $_ eq 'get' } @{ $_->{verbs} }) }
            @{ $role->{rules} }),
       'the Role lets it get and list pods');
    is_deeply([ @{ $rb->{roleRef} }{qw(kind name)} ],
              [ 'Role', $role->{metadata}{name} ],
              'the RoleBinding binds the Role');
    ok((grep { $_->{kind} eq 'ServiceAccount'
               && $_->{name} eq $sa->{metadata}{name}
               && ($_->{namespace} // '') eq $ns } @{ $rb->{subjects} }),
       'to the ServiceAccount');

    # the container, its configuration and its environment
    my ($c) = grep { $_->{name} eq 'engram' } @{ $pod->{spec}{containers} };
    ok($c, 'a container "engram"') or return;

    my %args = @{ $c->{args} // [] };
    my $conf_path = $args{'-c'};
    ok($conf_path, "the container's -c: " . ($conf_path // 'none'));
    is($args{'-g'}, 'daemon off;', 'in the foreground');

    my ($mount) = grep { $_->{mountPath} eq dirname($conf_path // '/') }
                  @{ $c->{volumeMounts} };
    my ($vol) = grep { $_->{name} eq ($mount // {})->{name} }
                @{ $pod->{spec}{volumes} };
    is($vol && $vol->{configMap}{name}, $cm->{metadata}{name},
       'the configuration is the ConfigMap, mounted');

    my $conf = $cm->{data}{ basename($conf_path // '') };
    ok(defined $conf, 'which has the file -c names') or return;

    my @names = map { $_->{name} } @{ $c->{env} };
    is_deeply([ unknown_variables(@names) ], [],
              'every ENGRAM_* variable is one engram knows')
        or diag("known: @{[ sort keys %$KNOWN ]}");

    my %field;
    for my $e (@{ $c->{env} }) {
        my $f = $e->{valueFrom}{fieldRef}{fieldPath} or next;
        push @{ $field{ $e->{name} } }, $f;
    }

    is_deeply($field{ENGRAM_CLUSTER_NODE_ID}, ['metadata.name'],
              'the node id is the pod name');
    is_deeply($field{ENGRAM_CLUSTER_ADVERTISE_ADDR}, ['status.podIP'],
              'it advertises the pod IP');
    is_deeply($field{ENGRAM_CLUSTER_LISTEN_ADDR}, ['status.podIP'],
              'and listens on it');
    is_deeply($field{ENGRAM_CLUSTER_DISCOVERY_NAMESPACE},
              ['metadata.namespace'],
              'it lists the pods of its own namespace');

    my $env = k8s_env($c->{env});
    is_deeply([ grep { $env->{$_} =~ /\$\(/ } sort keys %$env ], [],
              'every $(NAME) is a variable defined before');

    # the label selector picks the pods
    my ($selector) = grep { defined }
        $env->{ENGRAM_CLUSTER_DISCOVERY_LABEL_SELECTOR},
        $conf =~ /^\s*kubernetes\s[^;#]*\blabel_selector=([^\s;]+)/m,
        $conf =~ /^\s*kubernetes_label_selector\s+([^\s;]+)/m;
    my @terms = map { /^([^=!]+)==?(.*)$/ ? [ $1, $2 ] : () }
                split /,/, $selector // '';

    ok(@terms, 'a label selector: ' . ($selector // 'none'));
    is($labels->{ $_->[0] }, $_->[1], "the pods have the label $_->[0]=$_->[1]")
        for @terms;

    # the SRV name is one of the headless Service's
    my $srv = $env->{ENGRAM_CLUSTER_DNS_SRV};
    ok($srv, "an SRV name: " . ($srv // 'none'));

    my %srv_names = map {
        lc "_$_->{name}._" . lc($_->{protocol} // 'TCP')
           . ".$svc->{metadata}{name}.$ns.svc.cluster.local"
    } grep { defined $_->{name} && ($_->{port} // 0) == 7946 }
      @{ $svc->{spec}{ports} };

    ok($srv && $srv_names{ lc((split ' ', $srv)[0]) },
       'it is a record of a gossip port of the Service')
        or diag('the Service has ' . join(' ', sort keys %srv_names));

    # ports, probes and the Prometheus annotations
    my %cport = map { $_->{name} => $_->{containerPort} } @{ $c->{ports} };

    for my $p (@{ $svc->{spec}{ports} }) {
        ok(exists $cport{ $p->{targetPort} // '' },
           "the Service's $p->{name} targets a port of the container");
    }

    my ($http_ports, $loc) = http_of_conf($conf);

    for my $probe (qw(readinessProbe livenessProbe)) {
        my $g = $c->{$probe}{httpGet} // {};
        my $port = $g->{port} // '';
        $port = $cport{$port} // $port;

        is($g->{path}, '/health', "$probe on /health");
        ok($http_ports->{$port}, "$probe on the HTTP port ($port)");
    }

    is($loc->{'/health'}, 'health', 'which /health answers');

    # the pods run as the image's user, which owns its directories
    my $image = slurp("$CONTRIB/docker/Dockerfile");
    my ($uid) = $image =~ /useradd\b[^\n]*--uid (\d+)/;
    my $sc = $pod->{spec}{securityContext} // {};
    ok($sc->{runAsNonRoot}, 'the pods do not run as root');
    is($sc->{runAsUser}, $uid, "they run as the image's user ($uid)");

    my $a = $pod->{metadata}{annotations} // {};
    is($a->{'prometheus.io/scrape'}, 'true', 'Prometheus scrapes the pods');
    ok($http_ports->{ $a->{'prometheus.io/port'} // '' },
       'on the HTTP port');
    is($loc->{ $a->{'prometheus.io/path'} // '' }, 'metrics',
       'at the path of "metrics"');
};


subtest 'Kubernetes: engram -t of the ConfigMap with the environment '
        . 'of a pod' => sub
{
    plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;
    plan skip_all => 'engram is built without Kubernetes discovery'
        unless built('eg_discovery_k8s_module')
               && built('eg_discovery_dns_module');

    my @docs = yaml_docs("$CONTRIB/kubernetes/engram.yaml");
    my ($sts) = grep { $_->{kind} eq 'StatefulSet' } @docs;
    my ($cm) = grep { $_->{kind} eq 'ConfigMap' } @docs;
    my ($c) = grep { $_->{name} eq 'engram' }
              @{ $sts->{spec}{template}{spec}{containers} };

    my $conf = $cm->{data}{'engram.conf'};
    my $env = k8s_env($c->{env});
    my %pod = (%POD_ENV, %$env);

    test_ok(engram_test($conf, \%pod), 'engram -t accepts it');

    # it is the environment that makes the node what it is
    my $r = engram_test($conf, { %pod,
                                 ENGRAM_CLUSTER_LISTEN_ADDR => 'pod-ip' },
                        allow => qr/pod-ip/);
    ok($r->{exit} != 0
       && $r->{stderr} =~ /"pod-ip".*ENGRAM_CLUSTER_LISTEN_ADDR/,
       'a wrong pod IP fails, naming its variable')
        or diag($r->{stderr});

    $r = engram_test($conf, { %$env, KUBERNETES_SERVICE_HOST => undef },
                     allow => qr/api_server/);
    ok($r->{exit} != 0 && $r->{stderr} =~ /KUBERNETES_SERVICE_HOST/,
       'and so does the API discovery outside a pod')
        or diag($r->{stderr});
};


###########################################################################
# Docker

sub dockerfile {
    my $text = slurp("$CONTRIB/docker/Dockerfile");
    $text =~ s/\\\n/ /g;

    my @lines = grep { /\S/ && !/^\s*#/ } split /\n/, $text;
    my (@stages, %cmd);

    for (@lines) {
        my ($ins, $rest) = /^\s*([A-Z]+)\s+(.*?)\s*$/ or next;

        push @stages, { from => $rest, ins => [] } if $ins eq 'FROM';
        push @{ $stages[-1]{ins} }, [ $ins, $rest ] if @stages;
        $cmd{$ins} = $rest if $ins =~ /^(?:CMD|ENTRYPOINT)$/;
    }

    return (\@stages, \%cmd);
}


# what the image runs (ENTRYPOINT and CMD), the options of ./configure,
# and what the last stage copies where (destination => source)
sub image_command {
    my ($stages, $cmd) = @_;

    my @argv = map { @{ decode_json($cmd->{$_} // '[]') } }
               qw(ENTRYPOINT CMD);

    my ($configure) = grep { /\.\/configure\b/ }
                      map { $_->[1] } grep { $_->[0] eq 'RUN' }
                      @{ $stages->[0]{ins} };

    my %opt = ($configure // '') =~ /--([a-z-]+)=(\S+)/g;

    my %copied = map { my @w = split ' ', $_->[1]; ($w[-1] => $w[-2]) }
                 grep { $_->[0] eq 'COPY' } @{ $stages->[-1]{ins} };

    return (\@argv, \%opt, \%copied);
}


subtest 'Dockerfile: it builds from this tree, and runs what it built' => sub {
    my ($stages, $cmd) = dockerfile();

    is(scalar @$stages, 2, 'two stages, build and run');
    like($_->{from}, qr/^debian:bookworm(?:-slim)?\b/, "FROM $_->{from}")
        for @$stages;

    my ($build, $run) = @$stages;
    my $runs = join ' && ', map { $_->[1] } grep { $_->[0] eq 'RUN' }
                                @{ $build->{ins} };

    for my $step ('auto/deps', './configure', 'make') {
        like($runs, qr/(?:^|&&\s*)\Q$step\E\b/, "the build runs $step");
    }

    ok(-x "$TOP/$_", "$_ exists") for qw(auto/deps configure);

    # what COPY takes from the context (the top of the tree) exists
    for my $stage (@$stages) {
        for (grep { $_->[0] =~ /^(?:COPY|ADD)$/ } @{ $stage->{ins} }) {
            next if $_->[1] =~ /--from=/;
            my @w = split ' ', $_->[1];
            pop @w;
            ok(-e "$TOP/$_", "COPY $_: it exists") for @w;
        }
    }

    my ($argv, $opt, $copied) = image_command($stages, $cmd);
    my %copied = %$copied;

    is($argv->[0], $opt->{'sbin-path'}, 'it runs the binary at --sbin-path');
    like($copied{ $argv->[0] // '' } // '', qr{(?:^|/)objs/engram$},
         'the one the build made');

    my $conf = $copied{ $opt->{'conf-path'} // '' };
    ok($conf && -f "$TOP/$conf",
       'the image has a file at --conf-path: ' . ($conf // 'none'));

    my $text = slurp("$TOP/" . ($conf // 'contrib/docker/engram.conf'));
    ok("@$argv" =~ /-g daemon off;/ || $text =~ /^\s*daemon\s+off;/m,
       'it runs in the foreground');

    # the directories it writes exist for its user
    my $runs_image = join ' ', map { $_->[1] } grep { $_->[0] eq 'RUN' }
                                   @{ $run->{ins} };
    my ($user) = map { $_->[1] } grep { $_->[0] eq 'USER' } @{ $run->{ins} };
    ok($user && $runs_image =~ /useradd\b[^&]*\b\Q$user\E\b/,
       "the user \"$user\" is made");

    my ($pid) = $text =~ /^\s*pid\s+(\S+);/m;
    my %dirs = map { dirname($_) => 1 }
               grep { defined } $pid, $opt->{'pid-path'};

    for my $dir (sort keys %dirs) {
        like($runs_image, qr/install -d -o \Q$user\E[^&]*\s\Q$dir\E\b/,
             "$dir is made for $user");
    }

    # the libraries of this build are the packages the image installs
    my $ldd = run_command(['ldd', Engram->new->binary]);

    SKIP: {
        skip 'no ldd or dpkg', 2
            if $ldd->{exit} != 0 || !-x '/usr/bin/dpkg';

        my @libs = $ldd->{stdout} =~ m{=>\s+(/\S+)}g;
        my (%pkgs, @unknown);

        for my $lib (@libs) {
            # with a merged /usr, dpkg knows a file by one of its names
            my ($pkg) = map { run_command(['dpkg', '-S', $_])->{stdout}
                              =~ /^([\w.+-]+)(?::\w+)?: /
                            } $lib, $lib =~ m{^/usr(/.*)} ? $1 : "/usr$lib";

            if (!$pkg) {
                push @unknown, $lib;
            } elsif ($pkg ne 'libc6') {
                $pkgs{$pkg} = 1;
            }
        }

        is_deeply(\@unknown, [], 'every library is of a package');

        # what this test build has and the image's does not: the gossip
        # guard (BPF in a container takes privileges it should not have),
        # libbpf and the libelf it brings; the sanitizers' run-times
        delete @pkgs{qw(libbpf1 libelf1)} unless $runs =~ /--with-bpf/;
        delete @pkgs{qw(libasan8 libubsan1 libgcc-s1 libstdc++6)}
            unless $runs =~ /--with-sanitizers/;

        my @missing = grep { $runs_image !~ /\s\Q$_\E\s/ } sort keys %pkgs;
        ok(%pkgs && !@missing,
           'the image installs the libraries: ' . join(' ', sort keys %pkgs))
            or diag("missing: @missing");
    }

    my $ignore = "$CONTRIB/docker/Dockerfile.dockerignore";
    ok(-f $ignore && slurp($ignore) =~ /^objs$/m,
       'the context leaves objs/ out');

    test_ok(engram_test($text, {}), "engram -t of $conf, a single node");
};


subtest 'docker-compose: three nodes, each passes engram -t' => sub {
    plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;

    my ($compose) = yaml_docs("$CONTRIB/docker/docker-compose.yml");
    my ($stages, $cmd) = dockerfile();
    my (undef, $opt, $copied) = image_command($stages, $cmd);

    my $conf = slurp("$TOP/" . $copied->{ $opt->{'conf-path'} });
    my ($http_ports) = http_of_conf($conf);

    my $services = $compose->{services} // {};
    my @nodes = sort grep { $services->{$_}{build} || $services->{$_}{image}
                            =~ /engram/ } keys %$services;

    is(scalar @nodes, 3, "three nodes: @nodes");

    my %ids;

    for my $name (@nodes) {
        my $s = $services->{$name};
        my $b = $s->{build} // {};
        my $ctx = "$CONTRIB/docker/" . ($b->{context} // '.');

        ok(-f "$ctx/" . ($b->{dockerfile} // 'Dockerfile')
           && -x "$ctx/configure",
           "$name builds the Dockerfile from the top of the tree");

        my $env = $s->{environment} // {};
        $env = { map { /^([^=]+)=(.*)$/ ? ($1 => $2) : ($_ => '') } @$env }
            if ref $env eq 'ARRAY';

        is_deeply([ unknown_variables(sort keys %$env) ], [],
                  "$name: every ENGRAM_* variable is one engram knows");
        is($env->{ENGRAM_CLUSTER_MODE}, 'distributed',
           "$name is a cluster member");

        my $id = $env->{ENGRAM_CLUSTER_NODE_ID} // $s->{hostname} // '';
        ok($id && !$ids{$id}++, "$name has a node id of its own: $id");

        my @seeds = map { (split /:/)[0] } grep { /\S/ }
                    split /\s*,\s*/, $env->{ENGRAM_CLUSTER_SEEDS} // '';
        ok(@seeds && !grep({ !$services->{$_} } @seeds),
           "$name: its seeds are the services: @seeds");

        for my $p (@{ $s->{ports} // [] }) {
            my ($inner) = $p =~ /(\d+)(?:\/\w+)?$/;
            ok($http_ports->{$inner}, "$name publishes the HTTP port $inner");
        }

        my %e = map { $_ => "$env->{$_}" } keys %$env;
        test_ok(engram_test($conf, \%e),
                "$name: engram -t with its environment");
    }

    # a value engram refuses is refused through the same path
    my %e = %{ $services->{ $nodes[0] }{environment} // {} };
    my $r = engram_test($conf, { %e, ENGRAM_CLUSTER_NODE_ID => 'a b' },
                        allow => qr/node id/);
    ok($r->{exit} != 0 && $r->{stderr} =~ /ENGRAM_CLUSTER_NODE_ID/,
       'a bad node id in the environment fails the test')
        or diag($r->{stderr});
};


###########################################################################
# Prometheus

my $LIVE;

sub live { return $LIVE //= live_metrics() }


subtest 'Prometheus: promtool takes the rules and the scrape config' => sub {
    plan skip_all => 'promtool is not installed (auto/deps --test)'
        unless $PROMTOOL;

    my $dir = "$CONTRIB/prometheus";

    my $r = run_command([$PROMTOOL, 'check', 'rules',
                         "$dir/engram.rules.yml"]);
    is($r->{exit}, 0, 'promtool check rules engram.rules.yml')
        or diag($r->{stdout} . $r->{stderr});

    $r = run_command([$PROMTOOL, 'test', 'rules',
                      "$dir/engram.rules.test.yml"]);
    is($r->{exit}, 0, 'promtool test rules: each alert fires when it '
                      . 'should, and only then')
        or diag($r->{stdout} . $r->{stderr});

    $r = run_command([$PROMTOOL, 'check', 'config', "$dir/prometheus.yml"]);

    my $no_k8s = qr/field kubernetes_sd_configs not found/;

    if ($r->{exit} != 0 && "$r->{stdout}$r->{stderr}" =~ $no_k8s)
    {
        # Debian's Prometheus is built without Kubernetes discovery: the
        # rest of the file is checked, and the Kubernetes job below
        diag('this promtool has no kubernetes_sd_configs: '
             . 'checking prometheus.yml without its Kubernetes job');

        plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;

        my $tmp = tempdir(CLEANUP => 1);
        my $c = run_command([$PYTHON, '-c', <<'EOF', $dir, $tmp]);
import shutil, sys, yaml
src, dst = sys.argv[1], sys.argv[2]
with open(src + '/prometheus.yml') as f:
    c = yaml.safe_load(f)
c['scrape_configs'] = [s for s in c['scrape_configs']
                       if 'kubernetes_sd_configs' not in s]
with open(dst + '/prometheus.yml', 'w') as f:
    yaml.safe_dump(c, f)
for r in c.get('rule_files', []):
    shutil.copy(src + '/' + r, dst + '/' + r)
EOF
        is($c->{exit}, 0, 'the file without its Kubernetes job')
            or diag($c->{stderr});

        $r = run_command([$PROMTOOL, 'check', 'config', "$tmp/prometheus.yml"]);
    }

    is($r->{exit}, 0, 'promtool check config prometheus.yml')
        or diag($r->{stdout} . $r->{stderr});
};


subtest 'Prometheus: the jobs find the nodes of the examples' => sub {
    plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;

    my ($prom) = yaml_docs("$CONTRIB/prometheus/prometheus.yml");
    my ($compose) = yaml_docs("$CONTRIB/docker/docker-compose.yml");
    my @k8s = yaml_docs("$CONTRIB/kubernetes/engram.yaml");
    my ($sts) = grep { $_->{kind} eq 'StatefulSet' } @k8s;
    my $pod = $sts->{spec}{template};

    my @jobs = @{ $prom->{scrape_configs} };
    ok(!grep({ $_->{job_name} !~ /^engram/ } @jobs),
       'the jobs are named engram*, as the rules expect');

    my @static = map { @{ $_->{targets} } }
                 map { @{ $_->{static_configs} // [] } } @jobs;
    my @services = sort grep { /engram/ } keys %{ $compose->{services} };

    is_deeply([ sort map { (split /:/)[0] } @static ], \@services,
              'the static targets are the compose services');

    my ($k) = grep { $_->{kubernetes_sd_configs} } @jobs;
    ok($k, 'a Kubernetes job') or return;

    is($k->{kubernetes_sd_configs}[0]{role}, 'pod', 'of pods');
    ok((grep { $_ eq $sts->{metadata}{namespace} }
            @{ $k->{kubernetes_sd_configs}[0]{namespaces}{names} }),
       'in the namespace of the StatefulSet');

    # Kubernetes' labels and annotations, as Prometheus names them
    my %meta;
    my $clean = sub { (my $s = shift) =~ s/[^a-zA-Z0-9_]/_/g; $s };

    $meta{ '__meta_kubernetes_pod_label_' . $clean->($_) }
        = $pod->{metadata}{labels}{$_} for keys %{ $pod->{metadata}{labels} };
    $meta{ '__meta_kubernetes_pod_annotation_' . $clean->($_) }
        = $pod->{metadata}{annotations}{$_}
        for keys %{ $pod->{metadata}{annotations} };

    for my $rule (grep { ($_->{action} // '') eq 'keep' }
                  @{ $k->{relabel_configs} })
    {
        my ($label) = @{ $rule->{source_labels} };

        if ($label eq '__meta_kubernetes_pod_container_port_name') {
            my ($c) = grep { $_->{name} eq 'engram' }
                      @{ $pod->{spec}{containers} };
            ok((grep { $_->{name} =~ /^(?:$rule->{regex})$/ }
                    @{ $c->{ports} }),
               "keep $label =~ $rule->{regex}: a port of the container");
            next;
        }

        ok(defined $meta{$label}
           && $meta{$label} =~ /^(?:$rule->{regex})$/,
           "keep $label =~ $rule->{regex}: the pods have it");
    }

    for my $rule (@{ $k->{relabel_configs} }) {
        for my $label (grep { /^__meta_kubernetes_pod_(?:label|annotation)_/ }
                       @{ $rule->{source_labels} })
        {
            ok(exists $meta{$label}, "$label is on the pods");
        }
    }
};


subtest 'Prometheus: the rules use metrics a node has' => sub {
    plan skip_all => "$PYTHON with yaml is missing" unless $HAVE_YAML;

    my ($rules) = yaml_docs("$CONTRIB/prometheus/engram.rules.yml");
    my @rules = map { @{ $_->{rules} } } @{ $rules->{groups} };
    my %alert = map { $_->{alert} => $_ } @rules;

    for my $a (qw(EngramNoPeersDiscovered EngramNodeNotReporting
                  EngramMembersDead EngramMembersSuspect
                  EngramLocalHealthHigh EngramDiscoveryFailing
                  EngramGossipKeyringMismatch EngramGossipDropsRising))
    {
        ok($alert{$a}, "an alert $a");
    }

    # the rule of the README is this one
    my $readme = slurp("$TOP/README.md");
    my ($expr) = $readme =~ /alert: EngramNoPeersDiscovered\n\s+expr: (.*)\n/;
    is($alert{EngramNoPeersDiscovered}{expr}, $expr,
       "EngramNoPeersDiscovered is the README's rule");

    my $live = live();
    ok($live->{engram_members}, 'a running node has engram_members')
        or return;

    for my $r (@rules) {
        my @names = metric_names($r->{expr});

        for my $name (@names) {
            ok($live->{$name}, "$r->{alert}: $name exists");
        }

        # label values a rule matches are values the node gives
        while ($r->{expr} =~ /\b((?:engram|process)_\w+)\{([^}]*)\}/g) {
            my ($name, $sel) = ($1, $2);

            while ($sel =~ /(\w+)\s*(=~|=)\s*"([^"]*)"/g) {
                my ($label, $op, $value) = ($1, $2, $3);

                for my $v ($op eq '=' ? ($value) : split /\|/, $value) {
                    ok((grep { ($_->{$label} // '') eq $v }
                            @{ $live->{$name} // [] }),
                       "$r->{alert}: $name has $label=\"$v\"");
                }
            }
        }
    }

    ok(!$live->{engram_no_such_metric},
       'a metric a node does not have would be caught');
};


###########################################################################
# the operations guide

my $GUIDE = "$TOP/docs/operations.md";


# The fenced blocks of a Markdown file: language, text (without the
# indentation of its fence), and the <!-- mark --> just before, if any.
sub fenced_blocks {
    my ($text) = @_;
    my (@blocks, $open, $mark);

    for my $line (split /\n/, $text) {
        if ($open) {
            if ($line =~ /^\s*```\s*$/) {
                push @blocks, $open;
                undef $open;
            } else {
                $line =~ s/^ {0,$open->{indent}}//;
                $open->{text} .= "$line\n";
            }
            next;
        }

        if ($line =~ /^(\s*)```(\w*)\s*$/) {
            $open = { lang => $2, indent => length $1, text => '',
                      mark => $mark };
            undef $mark;
        } elsif ($line =~ /^\s*<!--\s*(\w+)\s*-->\s*$/) {
            $mark = $1;
        } elsif ($line =~ /\S/) {
            undef $mark;
        }
    }

    return @blocks;
}


# a keyring file of one new key
sub new_keyring {
    my $r = run_command(['openssl', 'rand', '-base64', '32']);
    return $r->{stdout};
}


subtest 'docs/operations.md: every configuration passes engram -t' => sub {
    my $text = slurp($GUIDE);
    my @blocks = fenced_blocks($text);
    my @confs = grep { $_->{lang} eq 'nginx' } @blocks;

    ok(@confs >= 6, scalar(@confs) . ' configurations');

    my %needs = (
        dns_srv    => 'eg_discovery_dns_module',
        kubernetes => 'eg_discovery_k8s_module',
        aws        => 'eg_discovery_aws_module',
        multicast  => 'eg_discovery_mcast_module',
    );

    for my $i (0 .. $#confs) {
        my $conf = $confs[$i]{text};
        my ($first) = $conf =~ /^\s*((?:dns_srv|kubernetes|aws|multicast
                                       |seeds|keyring)\b[^;]*);/mx;
        my $name = 'configuration ' . ($i + 1) . ': ' . ($first // '?');

        my @missing = grep { $conf =~ /^\s*$_\s/m && !built($needs{$_}) }
                      sort keys %needs;

        SKIP: {
            skip "engram is built without $needs{$missing[0]}", 1
                if @missing;

            # the keyring a configuration names is one of ours
            my %files;
            $conf =~ s{^(\s*keyring\s+)\S+;}{
                $files{'gossip.keys'} = new_keyring();
                "${1}gossip.keys;"
            }gme;

            # as in a pod: the Kubernetes method needs the API server
            test_ok(engram_test($conf, { %POD_ENV }, files => \%files),
                    $name);
        }
    }

    my $r = engram_test("cluster {\n    seeds 10.0.0.1:7946 node-2:x;\n}\n",
                        {}, allow => qr/seed/);
    ok($r->{exit} != 0, 'a configuration engram refuses would be caught');
};


subtest 'docs/operations.md: the keyrings, commands, variables and '
        . 'metrics are real' => sub
{
    my $text = slurp($GUIDE);
    my @blocks = fenced_blocks($text);

    # the keyring files of the rotation are valid keyrings
    my @keyrings = grep { ($_->{mark} // '') eq 'keyring' } @blocks;
    is(scalar @keyrings, 4, 'the four keyrings of a rotation');

    my $cluster = "cluster {\n    listen 127.0.0.1:7946;\n"
                  . "    keyring gossip.keys;\n}\n";

    for my $i (0 .. $#keyrings) {
        test_ok(engram_test($cluster, {},
                            files => { 'gossip.keys' => $keyrings[$i]{text} }),
                'keyring ' . ($i + 1) . ' is valid');
    }

    my @keys = map { [ grep { /^[^#\s]/ } split /\n/, $_->{text} ] }
               @keyrings;
    is_deeply([ map { scalar @$_ } @keys ], [1, 2, 2, 1],
              'one key, two, two, one');
    ok(@keys == 4 && $keys[1][0] eq $keys[0][0] && $keys[1][1] eq $keys[3][0]
       && $keys[2][0] eq $keys[3][0] && $keys[2][1] eq $keys[0][0],
       'the new key is added second, made first, and the old removed');

    (my $bad = $keyrings[0]{text}) =~ s/^([A-Za-z0-9+\/]{10})./$1/m;
    my $r = engram_test($cluster, {}, files => { 'gossip.keys' => $bad },
                        allow => qr/keyring/);
    ok($r->{exit} != 0, 'a key one character short would be caught');

    # every variable is one engram knows
    my %vars = map { $_ => 1 } $text =~ /\b(ENGRAM_[A-Z_]*[A-Z])\b/g;
    ok(%vars, scalar(keys %vars) . ' ENGRAM_* variables named');
    is_deeply([ unknown_variables(sort keys %vars) ], [],
              'every one is a variable engram knows');

    # the commands
    my $sh = join '', map { $_->{text} } grep { $_->{lang} eq 'sh' } @blocks;

    my @s = $text =~ /\bengram -s (\w+)/g;
    ok(@s, 'engram -s is used');
    is_deeply([ grep { !/^(?:stop|quit|reopen|reload)$/ } @s ], [],
              'with signals it knows: ' . join(' ', @s));

    my %kill = map { $_ => 1 } $text =~ /\bkill -(?:s )?([A-Z][A-Z0-9]+)\b/g;
    is_deeply([ grep { !/^(?:HUP|QUIT|TERM|INT|USR1|USR2|WINCH)$/ }
                sort keys %kill ],
              [], 'kill sends signals engram handles: '
                  . join(' ', sort keys %kill));

    my %locations;
    for my $c (grep { $_->{lang} eq 'nginx' } @blocks) {
        my (undef, $loc) = http_of_conf($c->{text});
        %locations = (%locations, %$loc);
    }

    my %paths = map { $_ => 1 } $sh =~ m{\b127\.0\.0\.1:8081(/[^\s?'"]*)}g;
    ok(%paths, 'the API is called');
    for my $path (sort keys %paths) {
        ok($locations{$path}, "curl $path: a location of the guide "
                              . "($locations{$path})");
    }

    # systemctl reload is the unit's HUP
    my ($unit) = grep { -f } map { "$TOP/$_" }
                 ('contrib/systemd/engram.service', 'debian/engram.service');

    SKIP: {
        skip 'no systemd unit in this tree', 1 unless $unit;
        like(slurp($unit), qr/^ExecReload=.*\bHUP\b/m,
             'systemctl reload sends HUP (' . basename($unit) . ')');
    }

    like(slurp("$TOP/README.md"), qr/\(docs\/operations\.md\)/,
         'the README links to the guide');

    # the table of contents and the links within the guide
    my %anchors;
    for my $h ($text =~ /^#+ (.+)$/mg) {
        (my $a = lc $h) =~ s/[^a-z0-9 _-]//g;
        $a =~ s/ /-/g;
        $anchors{$a} = 1;
    }

    for my $a ($text =~ /\]\(#([^)]+)\)/g) {
        ok($anchors{$a}, "#$a is a heading");
    }

    for my $f ($text =~ /\]\((?!#|https?:)([^)#]+)/g) {
        ok(-e "$TOP/docs/$f", "the link $f exists");
    }
};


subtest 'docs/operations.md: the metrics and queries are a node\'s' => sub {
    my $text = slurp($GUIDE);
    my $live = live();

    my @names = metric_names($text);
    ok(@names >= 10, scalar(@names) . ' metrics named');
    ok($live->{$_}, "$_ exists") for @names;

    my @queries = map { grep { /\S/ } split /\n/, $_->{text} }
                  grep { ($_->{mark} // '') eq 'promql' }
                  fenced_blocks($text);
    ok(@queries, scalar(@queries) . ' queries');

    SKIP: {
        skip 'promtool is not installed', 1 unless $PROMTOOL;

        my $dir = tempdir(CLEANUP => 1);
        open my $fh, '>', "$dir/queries.yml" or die $!;
        print $fh "groups:\n  - name: guide\n    rules:\n";
        for my $i (0 .. $#queries) {
            (my $q = $queries[$i]) =~ s/'/''/g;
            print $fh "      - record: guide:query:$i\n"
                      . "        expr: '$q'\n";
        }
        close $fh;

        my $r = run_command([$PROMTOOL, 'check', 'rules', "$dir/queries.yml"]);
        is($r->{exit}, 0, 'promtool parses every query')
            or diag($r->{stdout} . $r->{stderr});
    }
};


done_testing;
