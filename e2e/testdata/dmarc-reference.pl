#!/usr/bin/perl
# dmarc-reference.pl FILE...: each file's DMARC aggregate reports as
# Mail::DMARC (Debian's libmail-dmarc-perl) reads them, one JSON line a file:
#   {"file": F, "reports": [{"org", "id", "domain", "records": [{"ip",
#    "count", "dkim", "spf", "header_from"}]}], "error": "..." (if it failed)}
# Its receiver's parser (Mail::DMARC::Report::Receive) is used as it is; its
# store is replaced by this printer, so nothing is written anywhere. Files:
# XML, gzip, zip (its first member), and e-mail messages (the receiver's own
# MIME walk). The reference's limits are its own: see e2e/dmarc_test.go.
use strict;
use warnings;
use JSON::PP;
use Email::Simple;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use IO::Uncompress::Unzip qw(unzip $UnzipError);
use Mail::DMARC::Report::Receive;

my @reports;
{
    no warnings 'redefine';
    *Mail::DMARC::Report::save_aggregate = sub {
        my $self = shift;
        my $agg  = $self->aggregate;
        my @recs = map {
            {   ip          => $_->row->source_ip,
                count       => 0 + ($_->row->count || 0),
                dkim        => $_->row->policy_evaluated->dkim,
                spf         => $_->row->policy_evaluated->spf,
                header_from => $_->identifiers->header_from,
            }
        } @{ $agg->record || [] };
        my $pol = $agg->policy_published;
        push @reports, { org => $agg->metadata->org_name, id => $agg->metadata->report_id,
            domain => ($pol ? $pol->domain : undef), records => \@recs };
        return 1;
    };
}

my $json = JSON::PP->new->canonical;
for my $file (@ARGV) {
    @reports = ();
    my $ok = eval {
        open(my $fh, '<:raw', $file) or die "$file: $!\n";
        my $data = do { local $/; <$fh> };
        close $fh;
        my $recv = Mail::DMARC::Report::Receive->new;
        if ($data =~ /^\x1f\x8b/) {
            my $xml;
            gunzip(\$data => \$xml) or die "gunzip: $GunzipError\n";
            $recv->handle_body($xml);
        } elsif ($data =~ /^PK\x03\x04/) {
            my $xml;
            unzip(\$data => \$xml) or die "unzip: $UnzipError\n";
            $recv->handle_body($xml);
        } elsif ($data =~ /^(\xef\xbb\xbf|\xff\xfe|\xfe\xff)?\s*</) {
            $recv->handle_body($data);
        } else {
            local *STDOUT;    # the receiver prints each message's Subject
            open(STDOUT, '>', \my $discard) or die $!;
            $recv->from_email_simple(Email::Simple->new($data));
        }
        1;
    };
    my $err = $@ || '';
    $err =~ s/\s+\z//;
    print $json->encode({ file => $file, reports => [@reports], ($ok ? () : (error => $err)) }), "\n";
}
