#!/usr/bin/perl

# Cluster mode: the on_member_change program runs for every change of a
# member (join, leave, fail, update) with the event and the member in its
# environment (ENGRAM_EVENT, ENGRAM_MEMBER_*, ENGRAM_NODE_ID,
# ENGRAM_CLUSTER_NAME) and the same as JSON on its standard input.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;
use Engram qw(wait_for cluster_members);


my %n = map { $_ => Engram->new } qw(h0 h1 h2);
my %ip = (h0 => '127.0.0.91', h1 => '127.0.0.92', h2 => '127.0.0.93');

# The hook runs as the cluster process does (nobody, when the test runs as
# root): it writes one file per run into a directory anyone may write,
# its environment, a line "--", then its standard input.
my $out = $n{h0}->prefix . '/hooks';
mkdir $out or die "mkdir $out: $!";
chmod 0777, $out;

my $hook = $n{h0}->write_file('conf/hook.sh', <<"EOF");
#!/bin/sh
f=$out/run.\$\$
{ env | sort; echo --; cat; } > \$f.tmp && mv \$f.tmp \$f
EOF
chmod 0755, $hook;

my $common = 'cluster_name hooktest;';

$n{h0}->write_cluster_config(id => 'h0', ip => $ip{h0},
                             cluster => "$common on_member_change $hook;");
$n{h1}->write_cluster_config(id => 'h1', ip => $ip{h1}, seeds => [$n{h0}],
                             tags => 'role=web dc=one', cluster => $common);
$n{h2}->write_cluster_config(id => 'h2', ip => $ip{h2}, seeds => [$n{h0}],
                             tags => 'role=db', cluster => $common);


# every run of the hook so far: [{ env => {...}, input => {...} }, ...]
sub runs {
    opendir my $dh, $out or return ();
    my @files = sort grep { /^run\.\d+$/ } readdir $dh;
    closedir $dh;

    my @runs;

    for my $f (@files) {
        open my $fh, '<', "$out/$f" or next;
        local $/;
        my ($env, $input) = split /^--\n/m, <$fh> // '', 2;
        close $fh;

        my %env = map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () }
                  split /\n/, $env // '';
        my $json = eval { JSON::PP->new->decode($input // '') };

        push @runs, { env => \%env, input => $json, file => $f };
    }

    return @runs;
}


# waits for the run of the hook for this event and member; returns it
sub run_for {
    my ($event, $id) = @_;

    my $run;
    wait_for(sub {
        ($run) = grep { ($_->{env}{ENGRAM_EVENT} // '') eq $event
                        && ($_->{env}{ENGRAM_MEMBER_ID} // '') eq $id }
                 runs();
        return $run;
    }, 30);

    return $run;
}


sub member {
    my ($id) = @_;
    return (cluster_members($n{h0}->port('http')) // {})->{$id} // {};
}


$n{h0}->start;


subtest 'join: the hook gets the member that joined' => sub {
    $n{h1}->start;

    my $run = run_for('join', 'h1') or return fail('the hook ran for h1');
    my $m = member('h1');

    my %env = map { $_ => $run->{env}{$_} } grep { /^ENGRAM_/ }
              keys %{ $run->{env} };

    is_deeply(\%env, {
        ENGRAM_EVENT              => 'join',
        ENGRAM_MEMBER_ID          => 'h1',
        ENGRAM_MEMBER_ADDRESS     => $n{h1}->gossip_addr,
        ENGRAM_MEMBER_STATE       => 'alive',
        ENGRAM_MEMBER_INCARNATION => $m->{incarnation},
        ENGRAM_MEMBER_TAGS        => 'role=web,dc=one',
        ENGRAM_NODE_ID            => 'h0',
        ENGRAM_CLUSTER_NAME       => 'hooktest',
    }, 'its environment has the event, the member, the node and cluster')
        or diag(explain($run->{env}));

    like($run->{env}{PATH} // '', qr{(?:^|:)/usr/bin(?::|$)},
         'and a PATH with /usr/bin');

    is_deeply($run->{input}, {
        event       => 'join',
        id          => 'h1',
        address     => $n{h1}->gossip_addr,
        state       => 'alive',
        incarnation => $m->{incarnation},
        tags        => { role => 'web', dc => 'one' },
        node        => 'h0',
        cluster     => 'hooktest',
    }, 'its standard input is the same as one JSON object')
        or diag(explain($run->{input}));

    ok($n{h0}->wait_for_log(
           qr/\[info\] \d+#0: on_member_change \(join\) pid \d+ exited with code 0$/),
       'its exit is logged');
};


subtest 'leave: the hook gets the member that left' => sub {
    ok($n{h1}->stop, 'h1 leaves (QUIT)');

    my $run = run_for('leave', 'h1') or return fail('the hook ran for h1');

    is($run->{env}{ENGRAM_MEMBER_STATE}, 'left', 'ENGRAM_MEMBER_STATE=left');
    is($run->{env}{ENGRAM_MEMBER_ADDRESS}, $n{h1}->gossip_addr,
       'ENGRAM_MEMBER_ADDRESS is its address');
    is($run->{env}{ENGRAM_MEMBER_INCARNATION}, member('h1')->{incarnation},
       'ENGRAM_MEMBER_INCARNATION is the one it left with');
    is($run->{input}{event}, 'leave', 'the input says "leave"');
    is($run->{input}{state}, 'left', 'and state "left"');
    is($run->{input}{id}, 'h1', 'and id "h1"');
};


subtest 'fail: the hook gets the member found dead' => sub {
    $n{h2}->start;
    run_for('join', 'h2') or return fail('the hook ran for the join of h2');

    ok($n{h2}->kill9, 'every process of h2 is killed with signal 9');

    my $run = run_for('fail', 'h2') or return fail('the hook ran for h2');

    is($run->{env}{ENGRAM_MEMBER_STATE}, 'dead', 'ENGRAM_MEMBER_STATE=dead');
    is($run->{env}{ENGRAM_MEMBER_ADDRESS}, $n{h2}->gossip_addr,
       'ENGRAM_MEMBER_ADDRESS is its address');
    is($run->{env}{ENGRAM_MEMBER_TAGS}, 'role=db', 'ENGRAM_MEMBER_TAGS=role=db');
    is_deeply($run->{input}{tags}, { role => 'db' }, 'the input has its tags');
    is($run->{input}{event}, 'fail', 'the input says "fail"');
    is($run->{input}{state}, 'dead', 'and state "dead"');
};


subtest 'update: the hook gets the new tags of a member' => sub {
    $n{h1}->start;
    ok(wait_for(sub { (member('h1')->{state} // '') eq 'alive' }),
       'h1 is back') or return;

    my $before = member('h1')->{incarnation};

    $n{h1}->write_cluster_config(id => 'h1', seeds => [$n{h0}],
                                 tags => 'role=api', cluster => $common);
    ok($n{h1}->signal('HUP'), 'h1 reloads with new tags');

    my $run = run_for('update', 'h1') or return fail('the hook ran for h1');

    is($run->{env}{ENGRAM_MEMBER_TAGS}, 'role=api', 'ENGRAM_MEMBER_TAGS=role=api');
    is($run->{env}{ENGRAM_MEMBER_STATE}, 'alive', 'ENGRAM_MEMBER_STATE=alive');
    is_deeply($run->{input}{tags}, { role => 'api' }, 'the input has them');
    cmp_ok($run->{env}{ENGRAM_MEMBER_INCARNATION} // 0, '>', $before,
           'ENGRAM_MEMBER_INCARNATION is the new, higher one');
};


subtest 'no run of the hook failed' => sub {
    my @bad = $n{h0}->log_lines(qr/on_member_change .*(?:exited with code [1-9]|killed|failed)/);
    is_deeply(\@bad, [], 'no error about the hook in the log');
    ok(!grep({ !$_->{input} } runs()), 'every run had its JSON input');
};


ok($n{$_}->stop, "$_ stops") for qw(h0 h1);

done_testing;
