#!/usr/bin/perl

# Cluster mode with snapshot_path: a node writes the members it knows to
# its snapshot file, and when it starts again with none of its seeds
# answering, it rejoins the cluster through the members the file names.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Engram qw(wait_for cluster_members free_port);


my %n = map { $_ => Engram->new } qw(a b c);
my %ip = (a => '127.0.0.81', b => '127.0.0.82', c => '127.0.0.83');

# the cluster process may run as nobody: the file goes where it can write
my $dir = $n{c}->prefix . '/var';
mkdir $dir or die "mkdir $dir: $!";
chmod 0777, $dir;

my $snapshot = "$dir/members";

# addresses where no node runs: ports this test holds, on addresses no
# node uses
my @nowhere = ('127.0.0.88:' . free_port(), '127.0.0.89:' . free_port());

$n{a}->write_cluster_config(id => 'a', ip => $ip{a});
$n{b}->write_cluster_config(id => 'b', ip => $ip{b}, seeds => [$n{a}]);
$n{c}->write_cluster_config(id => 'c', ip => $ip{c}, seeds => [$n{a}],
                            cluster => "snapshot_path $snapshot;");

$n{$_}->start for qw(a b c);


sub state_of {
    my ($name, $id) = @_;
    my $m = cluster_members($n{$name}->port('http')) // {};
    return $m->{$id}{state} // '';
}


sub all_alive {
    my (@names) = @_;
    for my $name (@names) {
        return 0 if grep { state_of($name, $_) ne 'alive' } qw(a b c);
    }
    return 1;
}


# the snapshot as lines of [id, address, state, incarnation]
sub snapshot_lines {
    open my $fh, '<', $snapshot or return ();
    my @lines = map { [split ' '] } grep { !/^#/ && /\S/ } <$fh>;
    close $fh;
    return @lines;
}


ok(wait_for(sub { all_alive(qw(a b c)) }), 'a, b and c list each other alive')
    or BAIL_OUT('no cluster formed');


subtest 'c writes the members it knows to its snapshot' => sub {
    my %want = map { $_ => $n{$_}->gossip_addr } qw(a b c);

    ok(wait_for(sub {
           my %got = map { $_->[0] => $_->[1] }
                     grep { ($_->[2] // '') eq 'alive' } snapshot_lines();
           return join(',', map { "$_=$got{$_}" } sort keys %got)
                  eq join(',', map { "$_=$want{$_}" } sort keys %want);
       }), 'a, b and c alive, at their addresses, are in the file')
        or diag(explain([snapshot_lines()]));

    like(scalar(`head -1 $snapshot`), qr/^# engram members/,
         'the file starts with a comment');
};


my $incarnation = (cluster_members($n{a}->port('http')) // {})
                  ->{c}{incarnation};

subtest 'c stops' => sub {
    ok($n{c}->stop, 'QUIT: c leaves and stops');
    ok(wait_for(sub { state_of('a', 'c') eq 'left' }), 'a lists c left');
    ok(-s $snapshot, 'the snapshot is still there');
};


subtest 'c starts again, its seeds down, and rejoins through the snapshot' =>
sub {
    $n{c}->write_cluster_config(id => 'c', seeds => \@nowhere,
                                cluster => "snapshot_path $snapshot;");

    my $from = $n{c}->log_offset;
    $n{c}->start;

    ok($n{c}->wait_for_log(
           qr/\[notice\] \d+#0: the snapshot "\Q$snapshot\E" remembers 2 members to join through/,
           from => $from),
       'c finds a and b in its snapshot');

    ok(wait_for(sub { all_alive(qw(a b c)) }),
       'a, b and c list each other alive again');

    cmp_ok((cluster_members($n{b}->port('http')) // {})->{c}{incarnation}
           // 0, '>', $incarnation, 'b has c at a higher incarnation');

    my @joined = $n{c}->log_lines(
        qr/\[notice\] \d+#0: joined the cluster through /, from => $from);
    is(scalar @joined, 1, 'c logged one join') or diag(explain(\@joined));
    like($joined[0] // '',
         qr/through (?:\Q${\ $n{a}->gossip_addr }\E|\Q${\ $n{b}->gossip_addr }\E),/,
         'through a or b, from the snapshot');

    ok($n{c}->log_lines(
           qr/\[warn\] \d+#0: join through \Q$nowhere[0]\E failed/,
           from => $from),
       'after the seed that did not answer');
};


subtest 'after a fast stop (TERM) and a failure, c rejoins the same way' =>
sub {
    $incarnation = (cluster_members($n{a}->port('http')) // {})
                   ->{c}{incarnation};

    ok($n{c}->stop(how => 'stop'), 'TERM: c stops at once');
    ok(wait_for(sub { state_of('a', 'c') eq 'dead' }, 30),
       'a finds c dead');

    my $from = $n{c}->log_offset;
    $n{c}->start;

    ok($n{c}->wait_for_log(
           qr/\[notice\] \d+#0: the snapshot "\Q$snapshot\E" remembers 2 members to join through/,
           from => $from),
       'c finds a and b in its snapshot');
    ok(wait_for(sub { all_alive(qw(a b c)) }),
       'a, b and c list each other alive again');
    cmp_ok((cluster_members($n{a}->port('http')) // {})->{c}{incarnation}
           // 0, '>', $incarnation, 'a has c at a higher incarnation');
};


ok($n{$_}->stop, "$_ stops") for qw(a b c);

done_testing;
