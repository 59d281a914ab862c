#!/usr/bin/perl

# Reload and binary upgrade of a cluster node while wrk loads its status
# page: every request is answered 200, no connection fails, and no peer
# ever sees the node anything but alive, at the same incarnation.
#
#   - HUP every second for a minute (TEST_ENGRAM_LONG=1; 20 s otherwise),
#     each reload changing the configuration, as an operator's would;
#   - USR2, WINCH, QUIT: a binary upgrade done twice in a row.
#
# Three nodes on 127.0.0.81-83 with the fast test timings (a probe every
# 200 ms, suspicion after a few hundred milliseconds): a node that stops
# answering for a fraction of a second would be suspected, so "no flap"
# here is a sharp check.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use POSIX ();
use Test::More;
use Time::HiRes qw(sleep time);
use Engram qw(wait_for cluster_members metrics run_command);


my $WRK = (grep { -x } map { "$_/wrk" } split /:/, $ENV{PATH})[0];

plan skip_all => 'wrk is not installed (auto/deps --test installs it)'
    unless $WRK;

my $LONG = $ENV{TEST_ENGRAM_LONG};
my $HUP_SECONDS = $LONG ? 60 : 20;

my @IDS = qw(load0 load1 load2);
my @IPS = map { "127.0.0.$_" } 81 .. 83;


# node 0 (the one reloaded and upgraded) serves the status page too, and
# runs two workers so that old and new generations overlap; $variant
# changes something at each reload: the peers must not notice
sub write_node {
    my ($n, $i, $variant) = @_;

    my $t = $n->[$i];
    my $workers = $i == 0 ? 2 : 1;
    my $gossip_nodes = 3 + ($variant % 2);
    my $keepalive = 30 + $variant % 7;

    $t->{gossip_ip} = $IPS[$i];
    my $listen = $t->gossip_addr;
    my $seeds = $n->[0]->gossip_addr;
    my $timings = join '',
        map { "    $_ $Engram::CLUSTER_TIMINGS{$_};\n" }
        sort keys %Engram::CLUSTER_TIMINGS;

    $t->write_config(<<"END");
%%TEST_GLOBALS%%
worker_processes $workers;
events { worker_connections 256; }
cluster {
    node_id $IDS[$i];
    listen $listen;
    seeds $seeds;
$timings    gossip_nodes $gossip_nodes;
}
http {
    keepalive_timeout ${keepalive}s;
    server {
        listen 127.0.0.1:%%PORT_http%%;
        location = / { status_page; }
        location = /cluster/members { cluster_members; }
        location = /metrics { metrics; }
        location = /health { health; }
    }
}
END
}


sub formed {
    my @n = map { Engram->new } @IDS;

    write_node(\@n, $_, 0) for 0 .. $#n;
    $n[0]->start(workers => 2);
    $_->start for @n[1 .. $#n];

    for my $t (@n) {
        ok(wait_for(sub {
               my $m = cluster_members($t->port('http')) // {};
               return @IDS == grep { ($m->{$_}{state} // '') eq 'alive' }
                              @IDS;
           }), 'a node lists all three alive')
            or BAIL_OUT('no cluster formed');
    }

    return @n;
}


# What the peers saw of node 0 while $during ran: its states as sampled
# every 100 ms by a child process (so that sampling goes on while the
# test waits on signals), and the peers' suspicion counters before and
# after.
sub watched {
    my ($n, $during) = @_;

    my @peers = @$n[1 .. $#$n];
    my $dir = tempdir('engram-watch-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);

    my %before = map { $_ => suspicions($peers[$_]) } 0 .. $#peers;
    my $inc = cluster_members($peers[0]->port('http'))->{$IDS[0]}
                  {incarnation};

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open my $log, '>', "$dir/states" or POSIX::_exit(1);
        $log->autoflush(1);

        until (-e "$dir/stop") {
            for my $p (@peers) {
                my $m = cluster_members($p->port('http'));
                my $s = $m ? ($m->{$IDS[0]}{state} // 'missing')
                                . ' ' . ($m->{$IDS[0]}{incarnation} // '-')
                           : 'unanswered';
                print $log "$s\n";
            }
            sleep 0.1;
        }

        POSIX::_exit(0);
    }

    $during->();

    open my $stop, '>', "$dir/stop" or die "$dir/stop: $!";
    close $stop;
    waitpid $pid, 0;

    open my $log, '<', "$dir/states" or die "$dir/states: $!";
    my %seen;
    $seen{$_}++ for map { chomp; $_ } <$log>;
    close $log;

    is_deeply([keys %seen], ["alive $inc"],
              "the peers saw $IDS[0] alive at incarnation $inc all along")
        or diag(explain(\%seen));

    for my $i (0 .. $#peers) {
        is(suspicions($peers[$i]), $before{$i},
           "$IDS[$i + 1] suspected nobody");
    }
}


sub suspicions {
    my ($t) = @_;
    return (metrics($t->port('http')) // {})
               ->{engram_swim_suspicions_total} // 'none';
}


# wrk on node 0's status page for $seconds, in the background; returns a
# function that waits for it and returns its report
sub load {
    my ($t, $seconds) = @_;

    my $dir = tempdir('engram-wrk-XXXXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $url = 'http://127.0.0.1:' . $t->port('http') . '/';

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or POSIX::_exit(1);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(1);
        # niced: the load is on the workers, and the test is about them;
        # a starved cluster process would make a flap of the machine's
        { exec 'nice', '-n', '10', $WRK, '-t', '1', '-c', '8', '-d',
               "${seconds}s", '--timeout', '5s', $url; }
        POSIX::_exit(127);
    }

    return sub {
        waitpid $pid, 0;
        is($?, 0, 'wrk ran to the end');

        open my $fh, '<', "$dir/out" or die "$dir/out: $!";
        local $/;
        my $out = <$fh>;
        close $fh;

        return $out;
    };
}


sub no_failure {
    my ($out) = @_;

    my ($requests) = $out =~ /(\d+) requests in/;
    ok(($requests // 0) > 100, 'wrk made requests: ' . ($requests // 0))
        or diag($out);
    unlike($out, qr/Socket errors/, 'no connection failed')
        or diag($out);
    unlike($out, qr/Non-2xx/, 'every answer was 200')
        or diag($out);
}


subtest "HUP every second for ${HUP_SECONDS}s under load" => sub {
    my @n = formed();
    my $t = $n[0];
    my $master = $t->master_pid;

    note($LONG ? 'the full minute' : '20 s: TEST_ENGRAM_LONG=1 runs 60');

    my $out;

    watched(\@n, sub {
        my $wait = load($t, $HUP_SECONDS + 2);
        sleep 1;

        for my $k (1 .. $HUP_SECONDS) {
            write_node(\@n, 0, $k);
            $t->signal('HUP', $master) or last;
            sleep 1;
        }

        $out = $wait->();
    });

    no_failure($out);

    is($t->master_pid, $master, 'the master is the same');
    ok($t->wait_for_workers(2), 'two workers run in the end');

    $_->stop for @n;
};


# the pid in logs/engram.pid, if it is a running master other than $old
sub new_master {
    my ($t, $old) = @_;
    my $text = $t->read_file('logs/engram.pid') // '';
    my ($pid) = $text =~ /^(\d+)$/m or return undef;
    return $pid != $old && $t->is_master($pid) ? $pid : undef;
}


subtest 'USR2, WINCH, QUIT twice under load' => sub {
    my @n = formed();
    my $t = $n[0];

    my $out;

    watched(\@n, sub {
        my $wait = load($t, 16);
        sleep 1;

        for my $round (1 .. 2) {
            my $old = $t->master_pid;
            my $new;

            ok($t->signal('USR2', $old), "round $round: USR2");
            ok(wait_for(sub { $new = new_master($t, $old) }),
               "round $round: a new master runs");
            sleep 1;

            ok($t->signal('WINCH', $old), "round $round: WINCH");
            sleep 2;
            ok($t->signal('QUIT', $old), "round $round: QUIT");
            ok(wait_for(sub { !Engram::pid_alive($old) }),
               "round $round: the old master exits");
            sleep 1;
        }

        $out = $wait->();
    });

    no_failure($out);

    ok(!$t->log_lines(qr/leaving the cluster|left the cluster/),
       'the node did not leave');

    $_->stop for @n;
};


done_testing;
