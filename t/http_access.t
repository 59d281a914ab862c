#!/usr/bin/perl

# allow and deny: addresses and CIDR blocks checked in order, the first
# that matches decides, 403 for a denied client, and a level with rules of
# its own replaces the rules it would inherit. The clients connect from
# several loopback addresses (all of 127.0.0.0/8 is loopback on Linux) and
# from ::1 when the machine has IPv6 loopback.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::IP;
use Test::More;
use Engram;


# whether ::1 can be bound here
my $has_ipv6 = do {
    my $s = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
                                Proto => 'tcp', Listen => 1);
    $s ? 1 : 0;
};


my $t = Engram->new;
my $v6 = $has_ipv6 ? '' : '#';

$t->write_config(<<"EOF");
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    deny 127.0.0.9;

    server {
        listen 127.0.0.1:%%PORT_http%%;

        allow 127.0.0.2;
        deny 127.0.0.0/24;
        deny 127.0.2.8/29;

        location = /health { health; }
        location = /open { health; allow all; }
        location = /closed { health; deny all; }
        location = /only1 { health; allow 127.0.0.1; deny all; }
    }

    server {
        listen 127.0.0.1:%%PORT_order%%;

        deny 127.0.0.3;
        allow 127.0.0.0/8;
        deny 127.0.0.4;
        deny all;

        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_inherit%%;
        location = /health { health; }
    }

$v6    server {
$v6        listen [::1]:%%PORT_v6%%;
$v6        location = /allowed { health; allow ::1; deny all; }
$v6        location = /denied { health; deny ::1; }
$v6        location = /cidr { health; deny ::/64; }
$v6        location = /v4only { health; deny 127.0.0.0/8; }
$v6    }
}
EOF

$t->start;


# the status of GET $path on the server $name, from the address $from
sub status_of {
    my ($name, $path, $from, %opts) = @_;

    my $c = Engram::Conn->new($t->port($name), local => $from, %opts)
        or return "no connection from $from: $Engram::Conn::ERROR";
    my $res = $c->request(GET => $path) or return 'no answer';

    return $res->{status};
}


subtest 'an allowed address is served' => sub {
    is(status_of(http => '/health', '127.0.0.2'), 200, '127.0.0.2: 200');
};


subtest 'an address in a denied CIDR block gets 403' => sub {
    is(status_of(http => '/health', '127.0.0.1'), 403, '127.0.0.1: 403');
    is(status_of(http => '/health', '127.0.0.254'), 403, '127.0.0.254: 403');
};


subtest 'the first rule that matches decides' => sub {
    # 127.0.0.2 is both allowed and in the denied 127.0.0.0/24; allow is
    # first
    is(status_of(http => '/health', '127.0.0.2'), 200, 'allow first: 200');

    # here deny 127.0.0.3 comes before allow 127.0.0.0/8
    is(status_of(order => '/health', '127.0.0.3'), 403, 'deny first: 403');

    # and allow 127.0.0.0/8 before deny 127.0.0.4 and deny all
    is(status_of(order => '/health', '127.0.0.4'), 200,
       'a later deny does not count: 200');
};


subtest 'an address no rule matches is let through' => sub {
    is(status_of(http => '/health', '127.0.1.5'), 200, '127.0.1.5: 200');
};


subtest 'a CIDR block covers exactly its addresses' => sub {
    # deny 127.0.2.8/29 is 127.0.2.8 to 127.0.2.15
    is(status_of(http => '/health', '127.0.2.7'), 200, '127.0.2.7: 200');
    is(status_of(http => '/health', '127.0.2.8'), 403, '127.0.2.8: 403');
    is(status_of(http => '/health', '127.0.2.15'), 403, '127.0.2.15: 403');
    is(status_of(http => '/health', '127.0.2.16'), 200, '127.0.2.16: 200');
};


subtest 'deny all gives 403 to every address' => sub {
    is(status_of(http => '/closed', $_), 403, "$_: 403")
        for '127.0.0.2', '127.0.1.5', '127.0.0.1';
};


subtest 'the 403 answer is an HTML page and the error log names the rule' =>
sub {
    my $from = $t->log_offset;
    my $c = Engram::Conn->new($t->port('http'), local => '127.0.0.1');
    my $res = $c->request(GET => '/closed');

    is($res->{status}, 403, 'status 403');
    like($res->{body}, qr/403 Forbidden/, 'the body says "403 Forbidden"');
    is($res->{headers}{connection}, 'keep-alive',
       'the connection is kept alive');
    my $client = qr/client: 127\.0\.0\.1, .*request: "GET \/closed HTTP/;
    my $line = qr/\[error\] .*access forbidden by rule .*$client/;
    ok($t->wait_for_log($line, from => $from),
       'the error log says "access forbidden by rule" for that request');
};


subtest 'rules in a location replace those of its server' => sub {
    # the server denies 127.0.0.0/24; the location allows all
    is(status_of(http => '/open', '127.0.0.1'), 200, '/open, 127.0.0.1: 200');

    # the server allows 127.0.0.2; the location allows only 127.0.0.1
    is(status_of(http => '/only1', '127.0.0.2'), 403,
       '/only1, 127.0.0.2: 403');
    is(status_of(http => '/only1', '127.0.0.1'), 200,
       '/only1, 127.0.0.1: 200');
};


subtest 'a server without rules inherits those of http' => sub {
    is(status_of(inherit => '/health', '127.0.0.9'), 403, '127.0.0.9: 403');
    is(status_of(inherit => '/health', '127.0.0.1'), 200, '127.0.0.1: 200');
};


subtest 'a server with rules of its own does not inherit those of http' =>
sub {
    # http denies 127.0.0.9; this server's rules let it through
    is(status_of(order => '/health', '127.0.0.9'), 200, '127.0.0.9: 200');
};


subtest 'IPv6: ::1 is matched by address and by CIDR block' => sub {
    plan skip_all => 'no IPv6 loopback on this machine' unless $has_ipv6;

    my %v6 = (host => '::1');

    is(status_of(v6 => '/allowed', '::1', %v6), 200, 'allow ::1: 200');
    is(status_of(v6 => '/denied', '::1', %v6), 403, 'deny ::1: 403');
    is(status_of(v6 => '/cidr', '::1', %v6), 403, 'deny ::/64: 403');
    is(status_of(v6 => '/v4only', '::1', %v6), 200,
       'an IPv4 rule does not match ::1: 200');
};


# "engram -t" with one access rule in a server: (exit, stderr)
sub config_test {
    my ($rule) = @_;

    $t->write_config(<<"EOF", file => 'conf/test.conf');
%%TEST_GLOBALS%%
http {
    server {
        listen 127.0.0.1:%%PORT_test%%;
        $rule
    }
}
EOF

    my $r = $t->run({ conf => 'conf/test.conf' }, '-t');
    return ($r->{exit}, $r->{stderr});
}


my $test_conf = $t->path('conf/test.conf');

for my $bad ('127.0.0.1/33', '300.1.1.1', '127.0.0.1/', 'localhost',
             '::1/129', '10.0.0.0/8x')
{
    subtest "a bad address or CIDR block is refused ($bad)" => sub {
        my ($exit, $err) = config_test("allow $bad;");
        is($exit, 1, 'engram -t exits 1');
        my $msg = "[emerg] invalid parameter \"$bad\" in \"allow\" "
                  . 'directive, it must be an address, a CIDR block or '
                  . "\"all\" in $test_conf:5";
        like($err, qr/\Q$msg\E/,
             'the message quotes the value, the directive and the line')
            or diag($err);
    };
}


subtest 'a CIDR block with host bits set is accepted with a warning' => sub {
    my ($exit, $err) = config_test('deny 10.1.2.3/8;');
    is($exit, 0, 'engram -t exits 0');
    my $msg = '[warn] low address bits of 10.1.2.3/8 are meaningless in '
              . "$test_conf:5";
    like($err, qr/\Q$msg\E/,
         'and warns that the low bits are meaningless');
};


subtest 'allow takes exactly one argument' => sub {
    my ($exit, $err) = config_test('allow 127.0.0.1 127.0.0.2;');
    is($exit, 1, 'engram -t exits 1');
    like($err, qr/invalid number of arguments in "allow" directive/,
         'invalid number of arguments');
};


done_testing;
