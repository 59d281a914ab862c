#!/usr/bin/perl

# The status page: one self-contained HTML page rendered by the server,
# its ?figures JSON, and (in headless Chromium, when it is installed) the
# page's script that refreshes it from the JSON API, and how it looks on a
# phone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use Test::More;
use Engram qw(http_json run_command wait_for);


my $chromium = '/usr/bin/chromium';

my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    access_log logs/access.log;

    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /cluster/discovery/health { discovery_health; }
        location / { status_page; }
    }
}
EOF

$t->start;

my $port = $t->port('http');
my $url = "http://127.0.0.1:$port/";

chomp(my $hostname = `hostname`);
$hostname = lc $hostname;


sub page {
    my ($path) = @_;
    return Engram::Conn->new($port)->request(GET => $path // '/');
}


subtest 'the status page is 200 text/html' => sub {
    my $res = page();
    is($res->{status}, 200, 'status 200');
    like($res->{headers}{'content-type'}, qr{^text/html; charset=utf-8$},
         'Content-Type: text/html; charset=utf-8');
    like($res->{body}, qr/^<!DOCTYPE html>/i, 'an HTML document');
    is($res->{headers}{'content-length'}, length $res->{body},
       'Content-Length is the length of the page');
};


subtest 'the status page loads nothing from elsewhere' => sub {
    my $body = page()->{body};

    my @external = $body =~ /((?:src|href|action)\s*=\s*["']?
                             \s*(?:[a-z][a-z0-9+.-]*:)?\/\/[^"'\s>]*)/gix;
    is_deeply(\@external, [], 'no src=, href= or action= to another site');

    ok($body !~ /<script[^>]+\bsrc\s*=/i, 'no script file');
    ok($body !~ /<link[^>]+rel\s*=\s*["']?stylesheet/i, 'no style sheet file');
    ok($body !~ /<img\b|<iframe\b/i, 'no image, no frame');
    ok($body !~ /url\(\s*["']?(?:[a-z]+:)?\/\//i && $body !~ /\@import/i,
       'no CSS url() to elsewhere and no @import');
};


subtest 'the status page shows this node, alive' => sub {
    my $body = page()->{body};
    like($body, qr/<title>engram: \Q$hostname\E<\/title>/,
         'the title names the node');
    like($body, qr/\Q$hostname\E \(this node\)/, 'the members list has it');
    like($body, qr/class="st alive">alive</, 'in the state "alive"');
};


subtest 'the status page works without JavaScript' => sub {
    like(page()->{body},
         qr/<noscript><meta http-equiv="refresh" content="\d+"><\/noscript>/,
         'a meta refresh inside <noscript>');
};


subtest 'HEAD of the status page has no body; POST is 405' => sub {
    my $c = Engram::Conn->new($port);
    my $head = $c->request(HEAD => '/');
    is($head->{status}, 200, 'HEAD: 200');
    is($head->{body}, '', 'no body');
    cmp_ok($head->{headers}{'content-length'}, '>', 1000,
           'Content-Length of the page');

    my $post = $c->request(POST => '/', body => 'x');
    is($post->{status}, 405, 'POST: 405');
};


subtest '?figures gives the live figures as JSON' => sub {
    my ($data, $res) = http_json($port, '/?figures');

    is($res->{status}, 200, 'status 200');
    like($res->{headers}{'content-type'}, qr{^application/json},
         'Content-Type: application/json');
    is_deeply([sort keys %{ $data // {} }],
              [qw(connections_active requests_total uptime_seconds)],
              'requests_total, connections_active, uptime_seconds');
    like($data->{$_} // '', qr/^\d+$/, "$_ is a number")
        for qw(connections_active requests_total uptime_seconds);
    cmp_ok($data->{connections_active}, '>=', 1,
           'the connection asking counts');

    my ($later) = http_json($port, '/?figures');
    cmp_ok($later->{requests_total}, '>', $data->{requests_total},
           'requests_total goes up');
};


# runs headless Chromium on the page with more arguments
sub chromium {
    my (@args) = @_;

    my $profile = tempdir('engram-chromium-XXXXXXXX', TMPDIR => 1,
                          CLEANUP => 1);

    return run_command([$chromium, '--headless', '--no-sandbox',
                        '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking',
                        '--disable-component-update', '--disable-sync',
                        "--user-data-dir=$profile",
                        '--virtual-time-budget=5000', @args, $url],
                       timeout => 60);
}


subtest 'in a browser the page\'s script refreshes it from the JSON API' =>
sub {
    plan skip_all => "$chromium is missing (auto/deps --test installs it)"
        unless -x $chromium;

    my $r = chromium('--dump-dom');
    is($r->{exit}, 0, 'chromium exits 0') or diag($r->{stderr});

    my $dom = $r->{stdout} // '';

    # the script hides the marker itself once a refresh went through
    like($dom, qr/<span id="stale" style="display: none;">/,
         'the "not updating" marker is hidden by the script');

    like($dom, qr/<b id="f-up">(?:\d+d )?(?:\d+h )?\d+[ms] \d+[sm]<\/b>/,
         'the uptime figure is filled');
    like($dom, qr/<b id="f-req">\d+<\/b>/, 'the request figure is filled');

    my ($rows) = $dom =~ m{<tbody id="members">(.*?)</tbody>}s;
    like($rows // '', qr/\Q$hostname\E \(this node\)/,
         'the members table has this node');
    like($rows // '', qr/<span class="st alive">alive<\/span>/,
         'alive');

    # the server writes a bare dash for no tags; the script a <span>
    like($rows // '', qr/<td data-k="tags"><span>/,
         'and the rows are the ones the script built');

    my @fetched;
    wait_for(sub {
        @fetched = grep { /HeadlessChrome/ }
                   split /\n/, $t->read_file('logs/access.log') // '';
        return grep { m{"GET /\?figures } } @fetched;
    });

    for my $path ('/cluster/members', '/cluster/discovery/health',
                  '/?figures')
    {
        ok((grep { m{"GET \Q$path\E HTTP/1\.1" 200 } } @fetched),
           "the browser fetched $path");
    }
};


subtest 'a phone-width screenshot of the page is a 390 x 844 PNG' => sub {
    plan skip_all => "$chromium is missing (auto/deps --test installs it)"
        unless -x $chromium;

    my $dir = tempdir('engram-shot-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $png = "$dir/status.png";

    my $r = chromium('--window-size=390,844', "--screenshot=$png");
    is($r->{exit}, 0, 'chromium exits 0') or diag($r->{stderr});
    ok(-s $png, 'the file is written') or return;

    open my $fh, '<:raw', $png or die "$png: $!";
    read $fh, my $head, 24;
    close $fh;

    is(substr($head, 0, 8), "\x89PNG\r\n\x1a\n", 'a PNG signature');
    is(substr($head, 12, 4), 'IHDR', 'the header chunk first');
    is_deeply([unpack 'NN', substr($head, 16, 8)], [390, 844],
              '390 pixels wide, 844 high');

    # a blank or error page compresses to far less
    cmp_ok(-s $png, '>', 10_000, 'the picture has content (' . (-s $png)
                                 . ' bytes)');
};


done_testing;
