#!/usr/bin/perl

# /metrics: the Prometheus text format 0.0.4 with the build info, the HTTP
# counters, gauges and histogram, the process figures of the instance;
# counters that live in shared memory and so survive a reload; and an
# output that promtool accepts.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempfile);
use Test::More;
use Time::HiRes qw(time);
use Engram qw(wait_for);


my $promtool = '/usr/bin/promtool';

my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /metrics { metrics; }
        location = /health { health; }
    }
}
EOF

my $started = time;
$t->start(workers => 2);

my $port = $t->port('http');
my ($version) = $t->run({ bare => 1 }, '-v')->{stderr}
                =~ m{engram version: engram/(\S+)};


sub conn {
    my $c = Engram::Conn->new($port)
        or die "connect: $Engram::Conn::ERROR\n";
    return $c;
}


# GET /metrics on a connection (a new one by default): the response
sub scrape {
    my ($c) = @_;
    $c //= conn();
    return $c->request(GET => '/metrics');
}


# the samples of a scrape: "name{labels}" => value
sub samples {
    my ($text) = @_;

    my %s;
    for my $line (split /\n/, $text) {
        next if $line =~ /^#/ || $line eq '';
        my ($key, $value) = $line =~ /^(\S+(?:\{.*\})?) (\S+)$/ or next;
        $s{$key} = $value;
    }

    return \%s;
}


sub requests_200 {
    my ($res) = @_;
    return samples($res->{body})->{'engram_http_requests_total{code="200"}'};
}


subtest 'GET /metrics is 200 in the Prometheus text format 0.0.4' => sub {
    my $res = scrape();
    is($res->{status}, 200, 'status 200');
    like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
         'Content-Type: text/plain; version=0.0.4');
    like($res->{body}, qr/\n\z/, 'the body ends with a new line');
};


subtest 'POST /metrics is 405' => sub {
    my $res = conn()->request(POST => '/metrics', body => '');
    is($res->{status}, 405, 'status 405');
    is($res->{headers}{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
};


subtest 'engram_build_info has HELP and TYPE lines and the version' => sub {
    my $body = scrape()->{body};

    like($body, qr/^# HELP engram_build_info \S.*$/m, 'a HELP line');
    like($body, qr/^# TYPE engram_build_info gauge$/m, 'TYPE gauge');
    like($body, qr/^engram_build_info\{version="\Q$version\E",
                   modules="[^"]*\bhttp_metrics\b[^"]*"\}[ ]1$/mx,
         "value 1, version $version, the modules built in");
};


subtest 'every family has one HELP and one TYPE line before its samples' =>
sub {
    my $body = scrape()->{body};
    my (%help, %type, @problems);

    for my $line (split /\n/, $body) {
        if ($line =~ /^# HELP (\S+)/) {
            push @problems, "second HELP for $1" if $help{$1}++;
        } elsif ($line =~ /^# TYPE (\S+) (\S+)$/) {
            push @problems, "second TYPE for $1" if $type{$1};
            $type{$1} = $2;
        } elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)/) {
            my $name = $1;
            my $family = $name;
            $family =~ s/_(?:bucket|sum|count)$// unless $type{$name};
            push @problems, "$name has no TYPE before it"
                unless $type{$family};
        } else {
            push @problems, "not a sample: $line";
        }
    }

    is_deeply(\@problems, [], 'no problem') or diag(join "\n", @problems);
    is_deeply([sort keys %help], [sort keys %type],
              'the same families have HELP and TYPE');
};


subtest 'engram_http_requests_total{code="200"} counts every answer' => sub {
    my $c = conn();

    # one connection: each request is counted before the next is read
    my $before = requests_200(scrape($c));
    ok(defined $before, "a first value: $before");

    $c->request(GET => '/health') for 1 .. 3;
    my $after = requests_200(scrape($c));

    is($after, $before + 4, 'three health checks and one scrape later: +4');
};


subtest 'engram_http_requests_total has a series per status code' => sub {
    my $c = conn();
    $c->request(GET => '/nothing');

    my $s = samples(scrape($c)->{body});
    cmp_ok($s->{'engram_http_requests_total{code="404"}'} // 0, '>=', 1,
           'code="404" counts the 404');
    like(scrape()->{body}, qr/^# TYPE engram_http_requests_total counter$/m,
         'it is a counter');
};


subtest 'the request duration histogram has cumulative buckets up to +Inf' =>
sub {
    my $body = scrape()->{body};

    like($body, qr/^# TYPE engram_http_request_duration_seconds histogram$/m,
         'TYPE histogram');

    my @buckets = $body =~ /^engram_http_request_duration_seconds_bucket
                             \{le="([^"]+)"\}[ ](\d+)$/mgx;
    my %s = %{ samples($body) };
    my $count = $s{engram_http_request_duration_seconds_count};
    my $sum = $s{engram_http_request_duration_seconds_sum};

    ok(@buckets >= 4, (@buckets / 2) . ' buckets');

    my (@le, @n);
    while (my ($le, $n) = splice @buckets, 0, 2) {
        push @le, $le;
        push @n, $n;
    }

    is($le[-1], '+Inf', 'the last bucket is le="+Inf"');

    my @finite = @le[0 .. $#le - 1];
    is_deeply(\@finite, [sort { $a <=> $b } @finite],
              'the bounds go up');
    ok(!(grep { $n[$_] < $n[$_ - 1] } 1 .. $#n),
       'the counts never go down: cumulative');
    is($n[-1], $count, "+Inf equals _count ($count)");
    cmp_ok($count, '>', 0, 'requests were counted');
    cmp_ok($sum, '>=', 0, "_sum is a duration ($sum)");
};


subtest 'engram_http_connections has a gauge per state that add up' => sub {
    my $idle = conn();
    $idle->request(GET => '/health');     # kept alive and idle now

    # the gauges of a scrape: state => value
    my $gauges = sub {
        my $s = samples(scrape()->{body});
        return { map { $_ => $s->{"engram_http_connections{state=\"$_\"}"} }
                 qw(active reading writing waiting) };
    };

    my $c = $gauges->();
    ok(!(grep { !defined } values %$c),
       'states active, reading, writing and waiting');
    cmp_ok($c->{writing} // 0, '>=', 1, 'the scrape itself is writing');

    # the other worker may be closing a connection of an earlier scrape
    # while this one is rendered: wait for a quiet moment
    ok(wait_for(sub {
           $c = $gauges->();
           return ($c->{waiting} // 0) >= 1
                  && $c->{active} == $c->{reading} + $c->{writing}
                                     + $c->{waiting};
       }), 'an idle keep-alive connection counts as waiting, and active '
           . "($c->{active}) is reading + writing + waiting")
        or diag(join ', ', map { "$_ $c->{$_}" } sort keys %$c);
};


subtest 'the process figures cover the whole instance' => sub {
    my $s = samples(scrape()->{body});

    cmp_ok($s->{process_resident_memory_bytes} // 0, '>', 1 << 20,
           'process_resident_memory_bytes is more than 1 MiB');
    cmp_ok($s->{process_open_fds} // 0, '>', 3, 'process_open_fds');
    ok(defined $s->{process_cpu_seconds_total}
       && $s->{process_cpu_seconds_total} >= 0,
       'process_cpu_seconds_total');

    my $start = $s->{process_start_time_seconds} // 0;
    cmp_ok($start, '>=', int($started) - 1,
           'process_start_time_seconds is not before the test started it');
    cmp_ok($start, '<=', time + 1, 'nor in the future');

    is($s->{engram_processes}, 3, 'engram_processes: a master, 2 workers');
};


subtest 'counters survive a reload' => sub {
    my $c = conn();
    $c->request(GET => '/health') for 1 .. 3;

    my $before = samples(scrape($c)->{body});
    my @old = $t->active_worker_pids;

    ok($t->signal('HUP'), 'HUP is sent');
    is(scalar $t->wait_for_workers(2, exclude => \@old), 2,
       'two new workers run');

    my $after = samples(scrape()->{body});

    for my $key ('engram_http_requests_total{code="200"}',
                 'engram_http_connections_accepted_total',
                 'engram_http_request_duration_seconds_count')
    {
        cmp_ok($after->{$key} // 0, '>=', $before->{$key} // 'undef',
               "$key does not drop ($before->{$key} -> "
               . ($after->{$key} // 'none') . ')');
    }
};


subtest 'promtool check metrics accepts the output' => sub {
    plan skip_all => "$promtool is missing (Debian package prometheus; "
                     . 'auto/deps --test installs it)'
        unless -x $promtool;

    my ($fh, $file) = tempfile(UNLINK => 1);
    print {$fh} scrape()->{body};
    close $fh;

    my $out = `$promtool check metrics < $file 2>&1`;
    is($? >> 8, 0, 'promtool exits 0') or diag($out);
    is($out, '', 'and has nothing to say');
};


done_testing;
