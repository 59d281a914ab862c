#!/usr/bin/perl

# TLS: "listen ... ssl" with a certificate made here by the openssl
# command, requests over TLS 1.2 and 1.3, ssl_protocols, a plain-HTTP
# client on the TLS port, the configuration errors "engram -t" refuses,
# and a certificate replaced on disk that a reload (HUP) puts in service.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Socket::SSL;
use Test::More;
use Engram qw(run_command);


my $t = Engram->new;


# a self-signed certificate and its key, in conf/NAME.crt and NAME.key
sub make_certificate {
    my ($name, $cn) = @_;

    my $r = run_command(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                         '-nodes', '-keyout', $t->path("conf/$name.key"),
                         '-out', $t->path("conf/$name.crt"), '-days', '1',
                         '-subj', "/CN=$cn"], timeout => 60);

    die "openssl req failed: $r->{stderr}\n" if $r->{exit} != 0;
}


make_certificate('first', 'first.test');
make_certificate('second', 'second.test');

# the certificate the server is given; replaced by "second" later
for my $ext ('crt', 'key') {
    $t->write_file("conf/server.$ext", $t->read_file("conf/first.$ext"));
}

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
worker_processes 2;
events { worker_connections 64; }
http {
    ssl_certificate %%PREFIX%%/conf/server.crt;
    ssl_certificate_key %%PREFIX%%/conf/server.key;

    server {
        listen 127.0.0.1:%%PORT_tls%% ssl;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_tls12%% ssl;
        ssl_protocols TLSv1.2;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_tls13%% ssl;
        ssl_protocols TLSv1.3;
        location = /health { health; }
    }

    server {
        listen 127.0.0.1:%%PORT_plain%%;
        location = /health { health; }
    }
}
EOF

$t->start(workers => 2);


# a TLS connection to the server $name; undef if the handshake failed
sub tls {
    my ($name, %ssl) = @_;
    return Engram::Conn->new($t->port($name), ssl => \%ssl);
}


sub is_health {
    my ($res) = @_;
    return $res && $res->{status} == 200
           && $res->{body} =~ /^\{"status":"ok"/;
}


subtest 'GET /health over TLS is answered' => sub {
    my $c = tls('tls');
    ok($c, 'the handshake succeeds') or return diag($Engram::Conn::ERROR);
    ok(is_health($c->request(GET => '/health')), 'health answers');
};


subtest 'the server shows the configured certificate' => sub {
    my $c = tls('tls') or return fail('no TLS connection');
    is($c->socket->peer_certificate('subject'), '/CN=first.test',
       'subject /CN=first.test');
};


subtest 'a keep-alive TLS connection serves several requests' => sub {
    my $c = tls('tls') or return fail('no TLS connection');
    ok(is_health($c->request(GET => '/health')), "request $_") for 1 .. 3;
    ok(!$c->eof, 'the connection stays open');
};


subtest 'TLS 1.3 is chosen when the client offers it' => sub {
    my $c = tls('tls') or return fail('no TLS connection');
    is($c->socket->get_sslversion, 'TLSv1_3', 'TLSv1.3');
};


subtest 'a TLS 1.2 client is served by default too' => sub {
    my $c = tls('tls', SSL_version => 'TLSv1_2')
        or return fail("no TLS 1.2 connection: $Engram::Conn::ERROR");
    is($c->socket->get_sslversion, 'TLSv1_2', 'TLSv1.2');
    ok(is_health($c->request(GET => '/health')), 'health answers');
};


subtest 'ssl_protocols TLSv1.2 serves TLS 1.2 and refuses TLS 1.3' => sub {
    my $c = tls('tls12');
    ok($c, 'a client offering both connects');
    is($c && $c->socket->get_sslversion, 'TLSv1_2', 'with TLSv1.2');
    ok(is_health($c && $c->request(GET => '/health')), 'health answers');

    ok(!tls('tls12', SSL_version => 'TLSv1_3'),
       'a TLS 1.3-only client fails the handshake');
};


subtest 'ssl_protocols TLSv1.3 serves TLS 1.3 and refuses TLS 1.2' => sub {
    my $c = tls('tls13');
    ok($c, 'a client offering both connects');
    is($c && $c->socket->get_sslversion, 'TLSv1_3', 'with TLSv1.3');
    ok(is_health($c && $c->request(GET => '/health')), 'health answers');

    ok(!tls('tls13', SSL_version => 'TLSv1_2'),
       'a TLS 1.2-only client fails the handshake');
};


subtest 'plain HTTP to the TLS port gets no HTTP response' => sub {
    my $c = Engram::Conn->new($t->port('tls'));
    $c->send("GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n");

    ok($c->wait_closed, 'the server closes the connection');
    unlike($c->buffer, qr/^HTTP\//, 'without an HTTP answer');
};


subtest 'after a plain-HTTP client the TLS port still serves' => sub {
    my $c = tls('tls') or return fail('no TLS connection');
    ok(is_health($c->request(GET => '/health')), 'health answers');
};


subtest 'TLS to a plain port fails and the port still serves HTTP' => sub {
    ok(!tls('plain', Timeout => 5), 'the handshake fails');
    my $c = Engram::Conn->new($t->port('plain'));
    ok(is_health($c->request(GET => '/health')), 'plain HTTP is answered');
};


subtest 'a certificate replaced on disk is served after HUP' => sub {
    for my $ext ('crt', 'key') {
        $t->write_file("conf/server.$ext.new",
                       $t->read_file("conf/second.$ext"));
        rename $t->path("conf/server.$ext.new"), $t->path("conf/server.$ext")
            or die "rename: $!";
    }

    {
        # closed before the reload: a connection that has not sent a
        # request would keep its old worker until client_header_timeout
        my $c = tls('tls') or return fail('no TLS connection');
        is($c->socket->peer_certificate('subject'), '/CN=first.test',
           'before the reload the old certificate is served');
    }

    my @old = $t->active_worker_pids;
    ok($t->signal('HUP'), 'HUP is sent');
    is(scalar $t->wait_for_workers(2, exclude => \@old), 2,
       'two new workers run');

    # an old worker may still take a connection until it has closed its
    # listening sockets; the new certificate shows once they are gone
    ok($t->wait_gone(@old), 'the old workers exit');

    my $n = tls('tls') or return fail('no TLS connection');
    is($n->socket->peer_certificate('subject'), '/CN=second.test',
       'the new certificate is served');
    ok(is_health($n->request(GET => '/health')), 'and health answers');
};


# "engram -t" with this http block: (exit, stderr)
sub config_test {
    my ($http) = @_;

    $t->write_config(<<"EOF", file => 'conf/test.conf');
%%TEST_GLOBALS%%
http {
$http
}
EOF

    my $r = $t->run({ conf => 'conf/test.conf' }, '-t');
    return ($r->{exit}, $r->{stderr});
}


my $test_conf = $t->path('conf/test.conf');
my $key = $t->path('conf/first.key');
my $crt = $t->path('conf/first.crt');


subtest 'a missing certificate file is refused, with its name' => sub {
    my $missing = $t->path('conf/missing.crt');
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $missing;
        ssl_certificate_key $key;
    }
EOF

    is($exit, 1, 'engram -t exits 1');
    like($err, qr/\[emerg\] cannot load certificate "\Q$missing\E"/,
         'the message names the file');
};


subtest 'a missing key file is refused, with its name' => sub {
    my $missing = $t->path('conf/missing.key');
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $crt;
        ssl_certificate_key $missing;
    }
EOF

    is($exit, 1, 'engram -t exits 1');
    like($err, qr/\[emerg\] cannot load certificate key "\Q$missing\E"/,
         'the message names the file');
};


subtest 'a key that does not belong to the certificate is refused' => sub {
    my $other = $t->path('conf/second.key');
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $crt;
        ssl_certificate_key $other;
    }
EOF

    is($exit, 1, 'engram -t exits 1');
    my $why = qr/(?:key values mismatch|do not match)/;
    like($err, qr/\[emerg\] .*"\Q$other\E".*$why/,
         'the message names the key and says it does not match');
};


subtest '"listen ... ssl" without ssl_certificate is refused' => sub {
    my ($exit, $err) = config_test(<<'EOF');
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        location = /health { health; }
    }
EOF

    my $port = $t->port('test');
    is($exit, 1, 'engram -t exits 1');
    my $listen = qr/"listen 127\.0\.0\.1:$port ssl"/;
    my $where = qr/directive in \Q$test_conf\E:\d+/;
    my $msg = qr/no "ssl_certificate" is defined for the/;
    like($err, qr/\[emerg\] $msg $listen $where/,
         'the message names the listen and where its server is');
};


subtest 'ssl_certificate without ssl_certificate_key is refused' => sub {
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $crt;
    }
EOF

    is($exit, 1, 'engram -t exits 1');
    my $msg = "no \"ssl_certificate_key\" is defined for certificate \"$crt\"";
    like($err, qr/\Q$msg\E/,
         'the message names the certificate');
};


subtest 'an unknown ssl_protocols value is refused' => sub {
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $crt;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.1;
    }
EOF

    is($exit, 1, 'engram -t exits 1');
    like($err, qr/invalid value "TLSv1\.1" in "ssl_protocols" directive/,
         'the message quotes the value');
};


subtest 'a valid TLS configuration passes engram -t' => sub {
    my ($exit, $err) = config_test(<<"EOF");
    server {
        listen 127.0.0.1:%%PORT_test%% ssl;
        ssl_certificate $crt;
        ssl_certificate_key $key;
    }
EOF

    is($exit, 0, 'engram -t exits 0') or diag($err);
};


done_testing;
