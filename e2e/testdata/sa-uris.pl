#!/usr/bin/perl
# sa-uris.pl FILE...: for each message, the hosts SpamAssassin's URI
# extraction finds (the names its URIDNSBL rules look up), one per line:
#   FILE <tab> HOST <tab> REGISTERED DOMAIN <tab> URI
# and the address of each relay its Received headers name that it does not
# trust (those its RCVD_IN_* rules look up; with no trusted_networks set, all
# but private and loopback ones):
#   FILE <tab> #relay <tab> ADDRESS
# Local tests only: nothing is looked up.
use strict;
use warnings;
use Mail::SpamAssassin;

my $state = $ENV{SA_STATE_DIR} || "/tmp/sa-uris";
my $sa = Mail::SpamAssassin->new({
    local_tests_only     => 1,
    dont_copy_prefs      => 1,
    userstate_dir        => $state,
    home_dir_for_helpers => $state,
    post_config_text     => "use_bayes 0\n",
});
$sa->init(1);
for my $file (@ARGV) {
    open(my $fh, '<', $file) or die "$file: $!";
    my $raw = do { local $/; <$fh> };
    close $fh;
    my $msg = $sa->parse($raw);
    my $pms = Mail::SpamAssassin::PerMsgStatus->new($sa, $msg);
    $pms->extract_message_metadata();
    for my $relay (@{$pms->{relays_untrusted} || []}) {
        print join("\t", $file, "#relay", $relay->{ip}), "\n" if $relay->{ip};
    }
    my $detail = $pms->get_uri_detail_list();
    for my $uri (sort keys %$detail) {
        my $hosts = $detail->{$uri}->{hosts} or next;
        for my $host (sort keys %$hosts) {
            print join("\t", $file, $host, $hosts->{$host}, $uri), "\n";
        }
    }
    $pms->finish();
    $msg->finish();
}
