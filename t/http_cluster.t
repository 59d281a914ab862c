#!/usr/bin/perl

# The JSON cluster API of a single node: /cluster/members with its filters
# and /cluster/discovery/health, field by field as README.md gives them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Time::Local qw(timegm);
use Engram qw(http_json);


my $t = Engram->new;

$t->write_config(<<'EOF');
%%TEST_GLOBALS%%
events { worker_connections 64; }
http {
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = /cluster/members { cluster_members; }
        location = /cluster/discovery/health { discovery_health; }
    }
}
EOF

my $started = time;
$t->start;

my $port = $t->port('http');

chomp(my $hostname = `hostname`);
$hostname = lc $hostname;


# GET $path: (decoded body, response)
sub get_json {
    my ($path) = @_;
    my ($data, $res) = http_json($port, $path);
    return ($data, $res // {});
}


sub members_of {
    my ($path) = @_;
    my ($data) = get_json($path);
    return [map { $_->{id} } @{ $data->{members} // [] }];
}


sub is_true  { JSON::PP::is_bool($_[0]) && $_[0] }
sub is_false { JSON::PP::is_bool($_[0]) && !$_[0] }


subtest '/cluster/members is 200 with a JSON body' => sub {
    my ($data, $res) = get_json('/cluster/members');
    is($res->{status}, 200, 'status 200');
    is($res->{headers}{'content-type'}, 'application/json',
       'Content-Type: application/json');
    ok(ref $data eq 'HASH', 'the body is a JSON object');
    is($res->{headers}{'content-length'}, length $res->{body},
       'Content-Length is exact');
};


subtest 'a single node reports mode "single" and no cluster name' => sub {
    my ($data) = get_json('/cluster/members');
    is($data->{mode}, 'single', 'mode "single"');
    ok(exists $data->{cluster} && !defined $data->{cluster}, 'cluster null');
};


subtest 'self is the host name in lower case' => sub {
    my ($data) = get_json('/cluster/members');
    is($data->{self}, $hostname, "self is \"$hostname\"");
};


subtest 'the one member is this node, alive' => sub {
    my ($data) = get_json('/cluster/members');
    my $members = $data->{members};

    is(ref $members, 'ARRAY', 'members is an array');
    is(scalar @$members, 1, 'of one member');

    my $m = $members->[0] // {};
    is($m->{id}, $hostname, 'its id is the host name');
    ok(exists $m->{address} && !defined $m->{address}, 'address null');
    is($m->{state}, 'alive', 'state "alive"');
    is($m->{incarnation}, 0, 'incarnation 0');
    is_deeply($m->{tags}, {}, 'tags {}');
    ok(is_true($m->{self}), 'self true');

    my @f = ($m->{last_change} // '')
            =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/;
    ok(@f, "last_change is an ISO 8601 UTC time ($m->{last_change})")
        or return;

    my $when = timegm($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0]);
    cmp_ok(abs($when - $started), '<=', 5, 'when the node started');
};


subtest 'counts has one alive member and a total of one' => sub {
    my ($data) = get_json('/cluster/members');
    is_deeply($data->{counts},
              { alive => 1, suspect => 0, dead => 0, left => 0, total => 1 },
              'alive 1, suspect 0, dead 0, left 0, total 1');
};


subtest '?state=alive keeps the alive member' => sub {
    is_deeply(members_of('/cluster/members?state=alive'), [$hostname],
              'this node');
};


subtest '?state=dead leaves no member but the counts stay' => sub {
    my ($data) = get_json('/cluster/members?state=dead');
    is_deeply($data->{members}, [], 'no member');
    is($data->{counts}{total}, 1, 'counts ignore the filter: total 1');
    is($data->{counts}{alive}, 1, 'alive 1');
};


subtest '?state= takes a list of states' => sub {
    is_deeply(members_of('/cluster/members?state=suspect,alive'),
              [$hostname], 'suspect,alive: this node');
    is_deeply(members_of('/cluster/members?state=dead,left'), [],
              'dead,left: none');
};


for my $bad ('state=bogus', 'state=', 'state=alive,', 'tag=', 'state=%zz') {
    subtest "?$bad is 400 with an error message" => sub {
        my ($data, $res) = get_json("/cluster/members?$bad");
        is($res->{status}, 400, 'status 400');
        is($res->{headers}{'content-type'}, 'application/json',
           'a JSON body');
        like($data->{error} // '', qr/\S/, "error: \"$data->{error}\"");
    };
}


subtest '?tag=x matches no member of a node without tags' => sub {
    is_deeply(members_of('/cluster/members?tag=x'), [], 'tag=x: none');
    is_deeply(members_of('/cluster/members?tag=role=db'), [],
              'tag=role=db: none');
    is_deeply(members_of('/cluster/members?state=alive&tag=x'), [],
              'state=alive&tag=x: all filters must hold');
};


subtest 'an unknown parameter is ignored' => sub {
    is_deeply(members_of('/cluster/members?cachebuster=123'), [$hostname],
              'this node');
};


subtest 'the compact body is one line' => sub {
    my (undef, $res) = get_json('/cluster/members');
    like($res->{body}, qr/^\{[^\n]*\}\n?\z/, 'no new line inside');
};


subtest '?pretty indents the same document' => sub {
    my ($plain) = get_json('/cluster/members');
    my ($pretty, $res) = get_json('/cluster/members?pretty');

    like($res->{body}, qr/^\{\n\s+"mode": "single",\n/,
         'one field per line, indented');
    is_deeply($pretty, $plain, 'the same data');
};


subtest 'HEAD /cluster/members has no body; POST is 405' => sub {
    my $c = Engram::Conn->new($port);
    my $head = $c->request(HEAD => '/cluster/members');
    is($head->{status}, 200, 'HEAD: 200');
    is($head->{body}, '', 'no body');

    my $post = $c->request(POST => '/cluster/members', body => '{}');
    is($post->{status}, 405, 'POST: 405');
    is($post->{headers}{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
};


subtest '/cluster/discovery/health of a single node: discovery is off' =>
sub {
    my ($data, $res) = get_json('/cluster/discovery/health');

    is($res->{status}, 200, 'status 200');
    is($res->{headers}{'content-type'}, 'application/json',
       'Content-Type: application/json');
    ok(is_false($data->{enabled}), 'enabled false');
    ok(exists $data->{method} && !defined $data->{method}, 'method null');
    is($data->{seeds_reachable}, 0, 'seeds_reachable 0');
    is($data->{seeds_total}, 0, 'seeds_total 0');
    ok(exists $data->{last_discovery} && !defined $data->{last_discovery},
       'last_discovery null');
    ok(exists $data->{next_refresh} && !defined $data->{next_refresh},
       'next_refresh null');
    is_deeply($data->{methods}, [], 'methods []');
    is_deeply([sort keys %$data],
              [sort qw(enabled method seeds_reachable seeds_total
                       last_discovery next_refresh methods)],
              'and no other field');
};


subtest '/cluster/discovery/health?pretty indents it' => sub {
    my ($data, $res) = get_json('/cluster/discovery/health?pretty');
    like($res->{body}, qr/^\{\n\s+"enabled": false,\n/, 'indented');
    ok(is_false($data->{enabled}), 'the same data');
};


done_testing;
