package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/resolver"
)

// progressEvery is how often a run whose stderr is not a terminal says how far
// it got; progressAfter how long a run must be estimated to take to say so.
const (
	progressEvery = 10 * time.Second
	progressAfter = 5 * time.Second
)

// estimate is what a run is expected to cost before it starts: the checks it
// makes and how long the lists' rate lets them take.
type estimate struct {
	checks   int64 // at least: a domain's addresses are known only from DNS
	domains  bool  // some targets are domains: more checks may come
	byRate   bool  // the duration is the lists' --rate's
	duration time.Duration
}

// estimateRun counts a run's checks and the time the per-list rate needs for
// the list that gets the most queries (the lists are asked side by side); with
// no rate, the concurrency at a 20ms round trip.
func estimateRun(lists []catalog.Selected, in *targetInput, ro *resolverOptions) estimate {
	addrs := int64(in.v4 + in.v6)
	if ro.shard.Count > 1 {
		addrs /= int64(ro.shard.Count)
	}
	// the busiest list's queries: lists are asked in parallel, each at --rate
	var e estimate
	var perList int64
	e.domains = in.domains > 0
	for _, l := range lists {
		switch {
		case l.Subjects() == catalog.KindIP:
			e.checks += addrs
			perList = max(perList, addrs+int64(in.domains)*2) // a domain: about its own address and an MX's
		case l.Subjects() == catalog.KindDomain:
			e.checks += int64(in.domains)
			perList = max(perList, int64(in.domains))
		}
	}
	switch {
	case ro.rate > 0:
		e.byRate = true
		e.duration = time.Duration(float64(perList) / ro.rate * float64(time.Second))
	default:
		conc := max(ro.concurrency, resolver.DefaultConcurrency/8, 1)
		e.duration = time.Duration(e.checks) * 20 * time.Millisecond / time.Duration(conc)
	}
	return e
}

// progressLinesWanted reports whether a run says its estimate and progress
// in lines on stderr (cron, scripts, CI logs: neither stream is a terminal),
// if it is expected to take more than progressAfter.
func progressLinesWanted(s *streams, oo *outputOptions) bool {
	return oo.progress && !oo.quiet && !s.errTTY && !s.outTTY
}

// progressLines says, on a stderr that is not a terminal (cron, a CI log), a
// long run's estimate when it starts and how far it got every progressEvery.
type progressLines struct {
	w     io.Writer
	est   estimate
	start time.Time
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

// newProgressLines starts the lines for a run estimated to take longer than
// progressAfter, or returns nil. tick gives the times to say progress at.
func newProgressLines(w io.Writer, est estimate, tick <-chan time.Time) *progressLines {
	if est.duration < progressAfter {
		return nil
	}
	p := &progressLines{w: w, est: est, start: time.Now(), stop: make(chan struct{})}
	more := ""
	if est.domains {
		more = " or more (a domain's addresses are known only from DNS)"
	}
	fmt.Fprintf(w, "blcheck: %d checks%s, about %s%s; progress every %v on stderr (--progress=false: none)\n",
		est.checks, more, roundDuration(est.duration), map[bool]string{true: " at the lists' --rate"}[est.byRate], progressEvery)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			select {
			case now := <-tick:
				p.line(now)
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// check counts one check done.
func (p *progressLines) check() { p.done.Add(1) }

// line says how far the run got at now.
func (p *progressLines) line(now time.Time) {
	done, elapsed := p.done.Load(), now.Sub(p.start)
	left := ""
	if done > 0 && done < p.est.checks {
		rest := time.Duration(float64(elapsed) * float64(p.est.checks-done) / float64(done))
		left = ", about " + roundDuration(rest) + " left"
	}
	pct := ""
	if p.est.checks > 0 {
		pct = fmt.Sprintf(" (%d%%)", min(100, done*100/p.est.checks))
	}
	fmt.Fprintf(p.w, "blcheck: progress: %d of %d checks%s, %s elapsed%s\n", done, p.est.checks, pct, roundDuration(elapsed), left)
}

// finish stops the lines.
func (p *progressLines) finish() {
	close(p.stop)
	p.wg.Wait()
}

// roundDuration says a duration as people do: 22m, 1h5m, 40s, 2m30s.
func roundDuration(d time.Duration) string {
	switch {
	case d >= 10*time.Minute:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Second)
	}
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
