#!/usr/bin/perl

# gzip: a client that accepts gzip gets the listed types compressed, with
# Content-Encoding and Vary, and the body inflates to exactly the plain
# one; q=0, gzip_min_length, gzip_types and "gzip off" keep a body plain.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Test::More;
use Engram;


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    gzip on;
    gzip_types application/json text/plain;

    server {
        listen 127.0.0.1:%%PORT_http%%;

        location = /members { cluster_members; }
        location = /discovery { discovery_health; }
        location = /metrics { metrics; }
        location = /min { discovery_health; gzip_min_length 10k; }
        location = /off { discovery_health; gzip off; }
        location = /level9 { cluster_members; gzip_comp_level 9; }
        location / { status_page; }
    }

    server {
        listen 127.0.0.1:%%PORT_json%%;
        gzip_types application/json;

        location = /metrics { metrics; }
        location = /discovery { discovery_health; }
        location / { status_page; }
    }
}
EOF

$t->start;


# GET $path with these request headers; the response. A hash first holds
# options: server (the name of its port), method.
sub get {
    my %opts = ref $_[0] eq 'HASH' ? %{ shift @_ } : ();
    my ($path, @headers) = @_;

    my $c = Engram::Conn->new($t->port($opts{server} // 'http'))
        or die "connect: $Engram::Conn::ERROR\n";

    return $c->request($opts{method} // 'GET', $path,
                       headers => \@headers);
}


sub gunzipped {
    my ($data) = @_;
    my $out;
    gunzip(\$data => \$out) or return "gunzip failed: $GunzipError";
    return $out;
}


# a static document: the same bytes each time it is asked for
my $doc = '/members?pretty';


subtest 'Accept-Encoding: gzip gets a gzip body and Vary' => sub {
    my $res = get($doc, 'Accept-Encoding: gzip');
    is($res->{status}, 200, 'status 200');
    is($res->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
    is($res->{headers}{vary}, 'Accept-Encoding', 'Vary: Accept-Encoding');
    is($res->{headers}{'content-type'}, 'application/json',
       'the Content-Type of the document');
    is($res->{headers}{'content-length'}, length $res->{body},
       'Content-Length is that of the compressed body');
    is(substr($res->{body}, 0, 2), "\x1f\x8b", 'the body is gzip data');
};


subtest 'the gzip body inflates to exactly the plain body' => sub {
    my $plain = get($doc)->{body};
    my $zipped = get($doc, 'Accept-Encoding: gzip')->{body};

    is(gunzipped($zipped), $plain, 'the same bytes');
    cmp_ok(length $zipped, '<', length $plain, 'in fewer bytes');
};


subtest 'without Accept-Encoding the body is plain, with Vary' => sub {
    my $res = get($doc);
    ok(!exists $res->{headers}{'content-encoding'}, 'no Content-Encoding');
    is($res->{headers}{vary}, 'Accept-Encoding', 'Vary: Accept-Encoding');
    like($res->{body}, qr/^\{\n/, 'the JSON as it is');
};


for my $ae ('gzip;q=0', 'gzip; q=0.000', 'identity', 'deflate, br',
            'gzip;q=0, deflate', 'gzip;q=0, *', '*;q=0')
{
    subtest "Accept-Encoding: $ae gets the plain body" => sub {
        my $res = get($doc, "Accept-Encoding: $ae");
        ok(!exists $res->{headers}{'content-encoding'},
           'no Content-Encoding');
        like($res->{body}, qr/^\{\n/, 'the JSON as it is');
    };
}


for my $ae ('GZIP', 'deflate, gzip;q=0.5', 'gzip;q=1.0', '*', 'br,gzip')
{
    subtest "Accept-Encoding: $ae gets gzip" => sub {
        my $res = get($doc, "Accept-Encoding: $ae");
        is($res->{headers}{'content-encoding'}, 'gzip',
           'Content-Encoding: gzip');
    };
}


subtest 'a body shorter than gzip_min_length stays plain' => sub {
    my $res = get('/min', 'Accept-Encoding: gzip');
    cmp_ok(length $res->{body}, '<', 10 * 1024, 'the body is under 10k');
    ok(!exists $res->{headers}{'content-encoding'}, 'no Content-Encoding');
    is($res->{headers}{vary}, 'Accept-Encoding',
       'Vary still: a longer one would be compressed');
};


subtest 'a type not in gzip_types stays plain, without Vary' => sub {
    my $res = get({ server => 'json' }, '/metrics', 'Accept-Encoding: gzip');
    like($res->{headers}{'content-type'}, qr{^text/plain}, 'text/plain');
    ok(!exists $res->{headers}{'content-encoding'}, 'no Content-Encoding');
    ok(!exists $res->{headers}{vary}, 'no Vary');
    like($res->{body}, qr/^# HELP /, 'the metrics as they are');
};


subtest 'a type in gzip_types is compressed: text/plain' => sub {
    my $res = get('/metrics', 'Accept-Encoding: gzip');
    is($res->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
    like(gunzipped($res->{body}), qr/^# HELP /, 'and inflates to metrics');
};


subtest 'text/html is compressed without being listed' => sub {
    my $res = get({ server => 'json' }, '/', 'Accept-Encoding: gzip');
    like($res->{headers}{'content-type'}, qr{^text/html}, 'text/html');
    is($res->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
    like(gunzipped($res->{body}), qr/^<!DOCTYPE html>/i,
         'and inflates to the page');
};


subtest 'gzip off in a location keeps its body plain, without Vary' => sub {
    my $res = get('/off', 'Accept-Encoding: gzip');
    ok(!exists $res->{headers}{'content-encoding'}, 'no Content-Encoding');
    ok(!exists $res->{headers}{vary}, 'no Vary');
};


subtest 'gzip_comp_level 9 gives a body that inflates the same' => sub {
    my $res = get('/level9?pretty', 'Accept-Encoding: gzip');
    is($res->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
    is(gunzipped($res->{body}), get($doc)->{body}, 'the same bytes');
};


subtest 'an error answer is not compressed' => sub {
    my $res = get('/members?state=bogus', 'Accept-Encoding: gzip');
    is($res->{status}, 400, 'status 400');
    ok(!exists $res->{headers}{'content-encoding'}, 'no Content-Encoding');
    like($res->{body}, qr/"error"/, 'the JSON as it is');
};


subtest 'HEAD with Accept-Encoding: gzip has the headers of the gzip GET' =>
sub {
    my $get = get($doc, 'Accept-Encoding: gzip');
    my $head = get({ method => 'HEAD' }, $doc, 'Accept-Encoding: gzip');

    is($head->{headers}{'content-encoding'}, 'gzip', 'Content-Encoding: gzip');
    is($head->{headers}{'content-length'}, $get->{headers}{'content-length'},
       'the Content-Length of the compressed body');
    is($head->{body}, '', 'no body');
};


subtest 'gzip and keep-alive: compressed answers follow each other' => sub {
    my $c = Engram::Conn->new($t->port('http'));
    my @got = map { $c->request(GET => $doc,
                                headers => ['Accept-Encoding: gzip']) } 1 .. 3;

    is(scalar(grep { $_ && gunzipped($_->{body}) =~ /"mode": "single"/ }
              @got), 3, 'three on one connection, each inflates');
};


done_testing;
