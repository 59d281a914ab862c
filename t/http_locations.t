#!/usr/bin/perl

# How a request picks its location, in nginx's order: an exact "=" match,
# else the longest prefix ("^~" stops there), else the first regex in file
# order ("~", "~*"), else that longest prefix; and the location errors that
# "engram -t" refuses. Each location here has its own handler, so the
# answer tells which one was chosen.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram;


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;

        location = /exact { health; }
        location /exact { status_page; }

        location /p/longer { discovery_health; }
        location /p { metrics; }
        location /q { metrics; }
        location /q/longer { discovery_health; }

        location ^~ /static/ { health; }
        location /img/ { status_page; }

        location ~ /r/ { metrics; }
        location ~ \.txt$ { discovery_health; }
        location ~ \.log$ { discovery_health; }
        location ~ /s/ { metrics; }

        location ~ \.json$ { cluster_members; }
        location ~* \.png$ { health; }
        location ~ \.GIF$ { health; }

        location / { }
    }

    server {
        listen 127.0.0.1:%%PORT_bare%%;
        location = /health { health; }
    }
}
EOF

$t->start;


# the handler that answered $path: health, status, metrics, members,
# discovery, or the status code when none did
sub chosen {
    my ($path, $name) = @_;

    my $c = Engram::Conn->new($t->port($name // 'http'))
        or return "no connection: $Engram::Conn::ERROR";
    my $res = $c->request(GET => $path) or return 'no answer';

    return $res->{status} if $res->{status} != 200;

    my $type = $res->{headers}{'content-type'} // '';
    my $body = $res->{body};

    return 'status' if $type =~ m{^text/html};
    return 'health' if $body =~ /^\{"status":"ok"/;
    return 'discovery' if $body =~ /"seeds_total"/;
    return 'members' if $body =~ /"members"/;
    return 'metrics' if $type =~ m{^text/plain; version=0\.0\.4};
    return "unknown 200 ($type)";
}


sub chooses {
    my ($path, $want, $name) = @_;
    is(chosen($path, $name), $want, "$path: $want");
}


subtest 'an exact location beats a prefix of the same path' => sub {
    chooses('/exact', 'health');
};


subtest 'an exact location matches only its own path' => sub {
    chooses('/exact/more', 'status');
    chooses('/exactly', 'status');
};


subtest 'the longest matching prefix wins' => sub {
    chooses('/p/longer/x', 'discovery');
    chooses('/p/other', 'metrics');
};


subtest 'the longest prefix wins whatever the order in the file' => sub {
    chooses('/q/longer/x', 'discovery');
    chooses('/q/other', 'metrics');
};


subtest 'a regex beats a plain prefix' => sub {
    chooses('/img/a.png', 'health');
};


subtest 'when no regex matches the longest prefix is used' => sub {
    chooses('/img/a.jpeg', 'status');
};


subtest 'a ^~ prefix stops the regex search' => sub {
    chooses('/static/a.png', 'health');
    chooses('/static/a.json', 'health');
    chooses('/other/a.json', 'members');
};


subtest 'the first regex in file order wins' => sub {
    chooses('/r/a.txt', 'metrics');      # "/r/" comes before "\.txt$"
    chooses('/s/a.log', 'discovery');    # "\.log$" comes before "/s/"
};


subtest '~* matches regardless of case' => sub {
    chooses('/x/a.png', 'health');
    chooses('/x/a.PnG', 'health');
};


subtest '~ is case sensitive' => sub {
    chooses('/x/a.GIF', 'health');
    chooses('/x/a.gif', 404);
};


subtest 'a regex sees the decoded path' => sub {
    chooses('/x/a%2Epng', 'health');
};


subtest 'a location without a handler answers 404' => sub {
    chooses('/nothing/here', 404);
};


subtest 'a path no location matches is 404' => sub {
    chooses('/health', 'health', 'bare');
    chooses('/other', 404, 'bare');
};


# "engram -t" on a server with these locations: (exit status, stderr)
sub config_test {
    my ($locations) = @_;

    $t->write_config(<<"EOF", file => 'conf/test.conf');
%%TEST_GLOBALS%%
http {
    server {
        listen 127.0.0.1:%%PORT_test%%;
$locations
    }
}
EOF

    my $r = $t->run({ conf => 'conf/test.conf' }, '-t');
    return ($r->{exit}, $r->{stderr});
}


my $test_conf = $t->path('conf/test.conf');


subtest 'a location without a leading "/" is refused' => sub {
    my ($exit, $err) = config_test('location health { health; }');
    is($exit, 1, 'engram -t exits 1');
    my $at = qr/ in \Q$test_conf\E:5$/m;
    like($err, qr/\[emerg\] location "health" must start with "\/"$at/,
         'the message names the location, the file and the line');
};


subtest 'an exact location without a leading "/" is refused' => sub {
    my ($exit, $err) = config_test('location = health { health; }');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/location "health" must start with "\/"/, 'and says why');
};


subtest 'a regex that does not compile is refused with PCRE2\'s message' =>
sub {
    my ($exit, $err) = config_test('location ~ "(unclosed" { health; }');
    is($exit, 1, 'engram -t exits 1');
    my $at = qr/ in \Q$test_conf\E:5$/m;
    my $msg = 'pcre2_compile() failed: missing closing parenthesis in '
              . '"(unclosed"';
    like($err, qr/\[emerg\] \Q$msg\E.*$at/,
         'the message quotes the expression, PCRE2\'s reason and the line');
};


subtest 'an unknown location modifier is refused' => sub {
    my ($exit, $err) = config_test('location ~~ /a { health; }');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/invalid location modifier "~~"/, 'and names it');
};


subtest 'two prefix locations with the same path are refused' => sub {
    my ($exit, $err) = config_test("location /a { health; }\n"
                                   . "location /a { metrics; }");
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/\[emerg\] duplicate location "\/a" in \Q$test_conf\E:6/,
         'the message names the second one and its line');
};


subtest 'a ^~ prefix and a plain prefix with the same path are duplicates' =>
sub {
    my ($exit, $err) = config_test("location /a { health; }\n"
                                   . "location ^~ /a { metrics; }");
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/duplicate location "\/a"/, 'duplicate location');
};


subtest 'two exact locations with the same path are refused' => sub {
    my ($exit, $err) = config_test("location = /a { health; }\n"
                                   . "location = /a { metrics; }");
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/duplicate location "\/a"/, 'duplicate location');
};


subtest 'two identical regex locations are refused' => sub {
    my ($exit, $err) = config_test("location ~ ^/a { health; }\n"
                                   . "location ~ ^/a { metrics; }");
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/duplicate location "\^\/a"/, 'duplicate location');
};


subtest '~ and ~* with the same expression are two locations' => sub {
    my ($exit, $err) = config_test("location ~ ^/a { health; }\n"
                                   . "location ~* ^/a { metrics; }");
    is($exit, 0, 'engram -t exits 0') or diag($err);
};


subtest 'an exact and a prefix location with the same path are accepted' =>
sub {
    my ($exit, $err) = config_test("location = /a { health; }\n"
                                   . "location /a { metrics; }");
    is($exit, 0, 'engram -t exits 0') or diag($err);
};


subtest 'a second handler in one location is refused' => sub {
    my ($exit, $err) = config_test('location /a { health; metrics; }');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/"metrics" directive is duplicate/, 'and says why')
        or diag($err);
};


done_testing;
