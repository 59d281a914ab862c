#!/usr/bin/perl

# The alert rule the README gives for a node that finds no peer is one
# Prometheus accepts (promtool check rules), and names metrics engram has.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use File::Temp qw(tempdir);
use Test::More;
use Engram qw(run_command);


my $readme = "$FindBin::Bin/../README.md";

open my $fh, '<', $readme or die "$readme: $!";
my $text = do { local $/; <$fh> };
close $fh;

my ($rule) = $text =~ /An\s+alert rule for it:\n\n((?: {4}.*\n)+)/;
ok($rule, 'the README has the alert rule') or BAIL_OUT('no rule');
$rule =~ s/^ {4}//mg;

like($rule, qr/engram_peers_discovered/, 'on engram_peers_discovered');

my $promtool = (grep { -x } map { "$_/promtool" } split /:/, $ENV{PATH})[0];

SKIP: {
    skip 'promtool is not installed (auto/deps --test installs it)', 1
        unless $promtool;

    my $dir = tempdir(CLEANUP => 1);
    open my $out, '>', "$dir/rules.yml" or die $!;
    print $out $rule;
    close $out;

    my $r = run_command([$promtool, 'check', 'rules', "$dir/rules.yml"]);
    is($r->{exit}, 0, 'promtool check rules accepts it')
        or diag($r->{stdout} . $r->{stderr});
}

done_testing;
