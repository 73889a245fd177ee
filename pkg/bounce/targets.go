package bounce

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
)

// Targets is what a bounce asks to check, in order: the addresses the
// rejection names as the sender's, the sender's domain, the domains the
// rejection names, and every host of the returned message; never the receiver
// (its recipients' domains, the rejecting server). Locations says where in the
// returned message each target was found, Origin why it is checked (by target
// index); Unread lists the parts of the returned message that could not be read.
type Targets struct {
	Targets   []dnsbl.Target
	Locations map[int][]extract.Location
	Origin    Origin
	Unread    []string
}

// ChooseTargets chooses what to check for a bounce whose cause is cause
// (Classify's): never the sending address for a content rejection, since the
// mail was refused, not its server. hinted are the lists the
// bounce names: when one is an IP list, the receiver judged addresses by it, so
// the hosts of the returned message are not judged as mere links (the seed's
// "reject content [xbl]" was about a link host's address on XBL).
func ChooseTargets(rep *Report, cause Cause, hinted []*catalog.List) *Targets {
	ipNamed := slices.ContainsFunc(hinted, func(l *catalog.List) bool { return l.Subjects() == catalog.KindIP })
	out := &Targets{Locations: map[int][]extract.Location{}, Origin: Origin{}}
	receiver := map[string]bool{}
	for _, r := range rep.Recipients {
		if at := strings.LastIndexByte(r, '@'); at > 0 {
			receiver[registered(r[at+1:])] = true
		}
	}
	if rep.Server.Name != "" {
		receiver[registered(rep.Server.Name)] = true
	}
	seen := map[string]bool{rep.Server.Addr: true}
	index := map[string]int{} // target input -> its place in targets
	add := func(input, why string, noMX bool, loc *extract.Location) {
		if i, ok := index[input]; ok {
			if loc != nil {
				out.Locations[i] = append(out.Locations[i], *loc)
			}
			if !slices.Contains(out.Origin[i], why) {
				out.Origin[i] = append(out.Origin[i], why)
			}
			return
		}
		if seen[input] {
			return
		}
		seen[input] = true
		t, err := dnsbl.ParseTarget(input)
		if err != nil || t.Kind == dnsbl.KindDomain && receiver[t.Domain] {
			return
		}
		t.NoMX = noMX
		t.Link = noMX && !ipNamed // a host of the returned message or one the rejection names: judged as a link
		out.Origin[len(out.Targets)] = []string{why}
		if loc != nil {
			out.Locations[len(out.Targets)] = []extract.Location{*loc}
		}
		index[input] = len(out.Targets)
		out.Targets = append(out.Targets, t)
	}
	// a content rejection judged the mail, not the server that sent it
	if cause.Kind != CauseContent {
		for _, ip := range rep.SenderIPs {
			add(ip, "the address your mail came from", false, nil)
		}
	}
	if rep.SenderDomain != "" {
		add(rep.SenderDomain, "your sending domain", false, nil)
	}
	for _, d := range rep.NamedDomains {
		add(d, "named in the rejection", true, nil)
	}
	if rep.Returned != nil {
		var items []extract.Item
		if got, err := extract.File(bytes.NewReader(rep.Returned), "returned message"); err == nil {
			items = got.Items
			out.Unread = append(out.Unread, got.Unread...)
		} else { // its hosts were not read, so not checked
			out.Unread = append(out.Unread, "the returned message could not be read: "+err.Error())
		}
		hosts := 0
		for _, it := range items {
			if _, ok := index[it.Host]; !ok && !seen[it.Host] {
				if hosts++; hosts > MaxReturnedHosts {
					out.Unread = append(out.Unread, fmt.Sprintf("the returned message names more than %d hosts: the first %d "+
						"were checked, the rest were not (blcheck scan checks a message's every host)", MaxReturnedHosts, MaxReturnedHosts))
					break
				}
			}
			why := "linked in your message"
			if strings.HasSuffix(it.Loc.Where, "header") || strings.HasPrefix(it.Loc.Where, "DKIM") {
				why = "in your message's headers"
				if it.Host == rep.SenderDomain {
					why = "your sending domain" // said already: the header is where it comes from
				}
			}
			loc := it.Loc
			add(it.Host, why, true, &loc)
		}
	}
	return out
}

// MaxReturnedHosts bounds the hosts of a returned message a bounce checks: a
// receiver judges a handful (SpamAssassin asks at most 20 domains), and a
// newsletter of 80,000 links is scan's work, not a diagnosis.
const MaxReturnedHosts = 1000

func registered(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}
