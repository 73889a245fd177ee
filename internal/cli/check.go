package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/blcheck/blcheck/pkg/bounce"
	"github.com/blcheck/blcheck/pkg/catalog"
	"github.com/blcheck/blcheck/pkg/dnsbl"
	"github.com/blcheck/blcheck/pkg/extract"
	"github.com/blcheck/blcheck/pkg/report"
	"github.com/blcheck/blcheck/pkg/resolver"
	"github.com/blcheck/blcheck/pkg/state"
)

// catalogOptions are the flags that choose the catalog and its lists.
type catalogOptions struct {
	listsFile string
	only      []string
	exclude   []string
	keys      []string
}

func (o *catalogOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.listsFile, "lists", "", "load the catalog from `FILE` (same schema as the built-in lists.yaml)")
	f.StringSliceVarP(&o.only, "list", "l", nil, "only these lists (`ID_OR_ZONE`, repeatable, comma lists allowed); "+
		"\"all\": every active list whose key is set, \"default\": the default ones")
	f.StringSliceVar(&o.exclude, "exclude", nil, "leave out these lists (`ID_OR_ZONE`, repeatable; \"default\": the default ones)")
	f.StringArrayVar(&o.keys, "key", nil, "account key for keyed lists as `VAR=KEY`, VAR being the list's key variable "+
		"(e.g. BLCHECK_SPAMHAUS_DQS_KEY); the environment is safer: flags show in process lists")
}

// prepare validates the flags every checking command shares, loads the catalog
// and chooses the lists (oo is nil for commands without output options).
func prepare(s *streams, co *catalogOptions, ro *resolverOptions, oo *outputOptions, formats ...string) (
	*catalog.Catalog, []catalog.Selected, []string, error) {
	if oo != nil {
		if err := oo.validate(formats...); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := ro.validate(); err != nil {
		return nil, nil, nil, err
	}
	if err := ro.resolveNamed(s); err != nil {
		return nil, nil, nil, err
	}
	if err := ro.prepareDirect(s); err != nil {
		return nil, nil, nil, err
	}
	cat, err := co.load(s)
	if err != nil {
		return nil, nil, nil, err
	}
	lists, warnings, err := co.selection(cat, s)
	if err != nil {
		return nil, nil, nil, err
	}
	return cat, lists, warnings, nil
}

// selection returns the lists a run uses: keys from --key, else the environment.
func (o *catalogOptions) selection(cat *catalog.Catalog, s *streams) ([]catalog.Selected, []string, error) {
	getenv, err := o.keyEnv(cat, s)
	if err != nil {
		return nil, nil, err
	}
	lists, warnings, err := cat.Select(catalog.Selection{Only: o.only, Exclude: o.exclude, Getenv: getenv})
	var ule *catalog.UnknownListError
	if errors.As(err, &ule) {
		flag := "--exclude"
		for _, n := range o.only {
			if slices.ContainsFunc(strings.Split(n, ","), func(p string) bool { return strings.TrimSpace(p) == ule.Name }) {
				flag = "--list"
			}
		}
		return nil, nil, usagef("%s: %v", flag, err)
	}
	if err != nil {
		return nil, nil, &usageError{err}
	}
	return lists, warnings, nil
}

// keyEnv is where keyed lists find their keys: --key, else the environment.
func (o *catalogOptions) keyEnv(cat *catalog.Catalog, s *streams) (func(string) string, error) {
	keys := map[string]string{}
	known := map[string]bool{}
	for _, l := range cat.Lists {
		if l.Key != nil {
			known[l.Key.Env] = true
		}
	}
	for _, kv := range o.keys {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(value) == "" {
			return nil, usagef("--key wants VAR=KEY, e.g. BLCHECK_SPAMHAUS_DQS_KEY=... (the key itself is not shown here)")
		}
		if !known[name] {
			return nil, usagef("--key %s=...: no list in the catalog takes a key from %s", name, name)
		}
		keys[name] = strings.TrimSpace(value)
	}
	return func(k string) string {
		if v, ok := keys[k]; ok {
			return v
		}
		return s.getenv(k)
	}, nil
}

// load reads the catalog in use: --lists FILE, or the built-in one.
func (o *catalogOptions) load(s *streams) (*catalog.Catalog, error) {
	if o.listsFile == "" {
		return catalog.Default(), nil
	}
	data, _, err := readBounded(s, o.listsFile, maxCatalogSize, "a catalog")
	if err != nil {
		return nil, usagef("--lists: %v", err)
	}
	c, err := catalog.Parse(data, o.listsFile)
	if err != nil {
		return nil, &usageError{err}
	}
	return c, nil
}

func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s: %v", pe.Path, pe.Err)
	}
	return err
}

// resolverOptions are the flags that choose and tune the resolver.
type resolverOptions struct {
	directOptions
	shard       dnsbl.Shard
	resolvers   []string
	addrs       []string // --resolver's values as host:port, once read
	timeout     time.Duration
	retries     int
	concurrency int
	rate        float64
	cacheSize   int // answers kept (serve's --cache-size); 0: the resolver's default
}

func (o *resolverOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.resolvers, "resolver", "r", nil, "resolver `HOST[:PORT]` to use, repeatable (default: the system's, from /etc/resolv.conf)")
	f.DurationVar(&o.timeout, "timeout", 3*time.Second, "per-query timeout")
	f.IntVar(&o.retries, "retries", 1, "retries per query after a timeout or SERVFAIL")
	f.IntVarP(&o.concurrency, "concurrency", "c", resolver.DefaultConcurrency, "most DNS queries in flight at once, fewer while the server drops some (each list's two or three health probes come on top)")
	f.Float64Var(&o.rate, "rate", 50, "per-list queries per second (politeness towards public mirrors); 0 means no limit")
	o.directOptions.addFlags(cmd)
}

// Bounds on --rate and --timeout, so that every wait of a run is bounded: at
// minRate a list gets a query every ten seconds.
const (
	minRate    = 0.1
	maxTimeout = time.Minute
)

func (o *resolverOptions) validate() error {
	if o.timeout <= 0 {
		return usagef("--timeout %v: must be more than 0", o.timeout)
	}
	if o.retries < 0 || o.retries > 10 {
		return usagef("--retries %d: must be from 0 to 10", o.retries)
	}
	if o.concurrency < 1 || o.concurrency > 4096 {
		return usagef("--concurrency %d: must be from 1 to 4096", o.concurrency)
	}
	if o.rate != 0 && !(o.rate >= minRate && o.rate <= 1e6) { // also NaN
		return usagef("--rate %v: must be 0 (no limit) or from %v to 1000000 queries a second", o.rate, minRate)
	}
	if o.timeout > maxTimeout {
		return usagef("--timeout %v: at most %v (a list that has not answered by then will not)", o.timeout, maxTimeout)
	}
	return nil
}

// client returns the DNS client and the servers it uses.
func (o *resolverOptions) client(s *streams) (*resolver.Client, []string, error) {
	servers, err := o.servers(s)
	if err != nil {
		return nil, nil, err
	}
	c, err := resolver.New(resolver.Config{Servers: servers, Timeout: o.timeout, Retries: o.retries, Concurrency: o.concurrency,
		CacheSize: o.cacheSize})
	return c, servers, err
}

// outputOptions are the flags that shape a checking command's result.
type outputOptions struct {
	spf          bool
	ns           bool
	output       string // -o prometheus: the file written atomically
	ptr          bool
	state        string
	warning      int
	critical     int
	format       string
	quiet        bool
	strict       bool
	noColor      bool
	allowPrivate bool
	txt          string
	deadline     time.Duration // --deadline: the longest the whole run takes; 0 for none
	progress     bool          // --progress: a long run says how far it got on stderr
}

func (o *outputOptions) addFlags(cmd *cobra.Command, formats string) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "o", "text", "output format: "+formats)
	f.BoolVarP(&o.quiet, "quiet", "q", false, "text: print only listings and problems (for cron)")
	f.BoolVar(&o.strict, "strict", true, "a list that could not be checked (error, blocked, unreliable) for any subject makes the run "+
		"incomplete (exit 3); --strict=false: only when every list failed for some subject, as in earlier releases")
	f.BoolVar(&o.noColor, "no-color", false, "no colour (NO_COLOR and a non-terminal stdout also turn it off)")
	f.BoolVar(&o.allowPrivate, "allow-private", false, "also check private, loopback, link-local and CGNAT addresses found in DNS")
	f.StringVar(&o.txt, "txt", "auto", "`WHEN` to ask a list for a listing's TXT reason: auto (in a run of up to "+
		strconv.Itoa(dnsbl.EagerSubjects)+" targets and no range, with the A query for its first "+strconv.Itoa(dnsbl.EagerSubjects)+
		" subjects, so a small check takes one round trip; otherwise after a listing) or listed (only after a listing: fewest queries)")
	f.BoolVar(&o.progress, "progress", true, "a run expected to take more than "+progressAfter.String()+" says so on stderr, and how far it got: "+
		"a bar on a terminal, else a line every "+progressEvery.String()+" (not with -q)")
	f.VarP((*deadlineValue)(&o.deadline), "deadline", "t", "the longest the whole run may take (`DURATION`, or seconds as in check_rbl's -t): "+
		"what finished by then is reported, the rest as not checked (deadline), and the run is incomplete (exit 3; Nagios UNKNOWN) "+
		"unless a listing came in time (exit 1); 0, the default, is no deadline")
	if strings.Contains(formats, "nagios") {
		f.IntVarP(&o.warning, "warning", "w", defaultWarning, "nagios: WARNING at `N` or more listings (at most --critical)")
		f.IntVar(&o.critical, "critical", defaultCritical, "nagios: CRITICAL at `N` or more listings (with --format nagios, -c means --critical, as in check_rbl)")
	}
}

func (o *outputOptions) validate(formats ...string) error {
	if _, ok := txtPolicies[o.txt]; !ok {
		return usagef("--txt %q: use auto or listed", o.txt)
	}
	for _, f := range formats {
		if o.format == f {
			return nil
		}
	}
	return usagef("--format %q: use %s", o.format, strings.Join(formats, ", "))
}

// txtPolicies are --txt's values.
var txtPolicies = map[string]dnsbl.TXTPolicy{"auto": dnsbl.TXTAuto, "listed": dnsbl.TXTListed}

// checkOptions are the flags of `blcheck [check]`.
type checkOptions struct {
	catalogOptions
	resolverOptions
	outputOptions
	files []string
	shard string
}

func (o *checkOptions) addFlags(cmd *cobra.Command) {
	o.catalogOptions.addFlags(cmd)
	o.resolverOptions.addFlags(cmd)
	o.outputOptions.addFlags(cmd, "text, json, jsonl, nagios or prometheus")
	cmd.Flags().StringVar(&o.output, "output", "", "-o prometheus: write the metrics to `FILE` atomically (for node_exporter's textfile collector) instead of stdout (- is stdout)")
	cmd.Flags().BoolVar(&o.ns, "ns", false, "also check the addresses of a domain's name servers (NS)")
	cmd.Flags().StringArrayVar(&o.files, "file", nil, "read targets from `FILE`, one per line (blank lines and # comments ignored; - is standard input)")
	cmd.Flags().BoolVar(&o.ptr, "ptr", false, "also check each address's reverse DNS: a PTR record exists and resolves back to it (a note per address)")
	cmd.Flags().BoolVar(&o.spf, "spf", false, "also check every address a domain's SPF record authorises (includes followed, up to 10 lookups; ranges up to /24)")
	cmd.Flags().StringVar(&o.state, "state", "", "remember results in `FILE`; with -q, text shows only what changed since the last run (for cron)")
	cmd.Flags().StringVar(&o.shard, "shard", "", "check only share `I/N` of the targets (I from 0 to N-1), for splitting a sweep across machines")
}

// parseShard reads --shard I/N.
func parseShard(v string) (dnsbl.Shard, error) {
	sh, err := dnsbl.ParseShard(v)
	if err != nil {
		return sh, usagef("--shard %q: %v (e.g. --shard $JOB_COMPLETION_INDEX/4)", v, err)
	}
	return sh, nil
}

// servers returns the resolvers to use: --resolver, or the system's.
func (o *resolverOptions) servers(s *streams) ([]string, error) {
	if len(o.resolvers) == 0 {
		servers, err := resolver.SystemServers(s.resolv)
		if err != nil {
			return nil, fmt.Errorf("%v (use --resolver)", err) // not a usage error: the machine has no resolver (exit 3)
		}
		return servers, nil
	}
	if err := o.resolveNamed(s); err != nil {
		return nil, err
	}
	return o.addrs, nil
}

// resolveNamed reads every --resolver value into o.addrs, once: a host name is
// resolved through the system at start, never again during the run.
func (o *resolverOptions) resolveNamed(s *streams) error {
	if o.addrs != nil || len(o.resolvers) == 0 {
		return nil
	}
	var out []string
	for _, r := range o.resolvers {
		hp, err := parseResolver(context.Background(), s, r)
		if err != nil {
			return err
		}
		if !slices.Contains(out, hp) { // the same server twice (a flag and BLCHECK_RESOLVER, 127.0.0.1 and :53) is one
			out = append(out, hp)
		}
	}
	o.addrs = out
	return nil
}

// The Nagios thresholds by default: one listing is WARNING, two are CRITICAL,
// so that each state can happen.
const (
	defaultWarning  = 1
	defaultCritical = 2
)

// thresholds checks -w and -c: numbers of listings, WARNING at no more than CRITICAL.
func (o *outputOptions) thresholds() error {
	if o.warning < 1 || o.critical < 1 {
		return usagef("--warning %d --critical %d: each takes a number of listings, 1 or more", o.warning, o.critical)
	}
	if o.warning > o.critical {
		return usagef("--warning %d is more than --critical %d: WARNING could never be reached "+
			"(e.g. -w 1 -c 2: one listing warns, two are critical)", o.warning, o.critical)
	}
	return nil
}

func runCheck(ctx context.Context, s *streams, o *checkOptions, args []string) error {
	if err := o.thresholds(); err != nil {
		return err
	}
	_, lists, warnings, err := prepare(s, &o.catalogOptions, &o.resolverOptions, &o.outputOptions, "text", "json", "jsonl", "nagios", "prometheus")
	if err != nil {
		return err
	}
	if o.output == "-" { // standard output, as without --output (not a file named "-")
		o.output = ""
	}
	if err := checkOutputFile(o.output, o.format); err != nil {
		return err
	}
	if err := outputDirWritable(o.output); err != nil {
		return err
	}
	targets, err := o.targets(s, args)
	if err != nil {
		return err
	}
	shard, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	o.resolverOptions.shard = shard
	warnings = append(append(warnings, targets.warnings...), volumeWarnings(lists, targets, shard)...)
	return execute(ctx, s, &o.resolverOptions, &o.outputOptions, lists, warnings, targets, nil)
}

// volumeWarnings says which operators' free daily use the run exceeds.
func volumeWarnings(lists []catalog.Selected, in *targetInput, shard dnsbl.Shard) []string {
	var out []string
	for _, u := range dnsbl.OverLimit(lists, dnsbl.Volume{V4: in.v4, V6: in.v6, Domains: in.domains}, shard) {
		out = append(out, fmt.Sprintf("this run sends about %d queries to %s (%s), whose free use is %d queries a day "+
			"across all its zones (counted per resolver; queries asked directly, at its own servers, count against "+
			"this machine's own address): split it over days (--shard), or use a paid feed or key",
			u.Queries, u.Operator, strings.Join(u.Zones, ", "), u.DailyLimit))
	}
	return out
}

// findings adds what scan and bounce know about their targets: where each was found.
type findings struct {
	locations map[int][]extract.Location // by target index
	ignored   []report.IgnoredDoc
	// bounce only: the bounce, and how to turn the results into a diagnosis
	bounce   *bounce.Report
	diagnose func(*dnsbl.Result) *bounce.Diagnosis
	// dmarc is set by blcheck dmarc: the reports' sources.
	dmarc *dmarcRun
	// observe, when set, sees every check as it is judged (a streamed run
	// keeps none in its result)
	observe func(*dnsbl.TargetResult, dnsbl.Check)
	// incomplete makes the run incomplete whatever the checks say: a bounce
	// that names nothing of the sender's to check, a MIME part that could not
	// be read (its links were not checked).
	incomplete []string
	// unasked, when set, says after the run what it left incomplete that
	// only its checks tell: a list the bounce names that no check asked.
	unasked func() []string
}

// warmAfter is when a JSON run has encoding/json build its encoders: not at
// once, while the run's first queries go out and a resolver on this machine
// takes them in, which a busy CPU slows (in the test world, whose proxy takes in
// a one-address run's 52 queries in about 2.5ms, warming at once made the last
// answer come about half a millisecond later), but well before the answers from
// a list across a network.
const warmAfter = 5 * time.Millisecond

// execute runs the checks and renders them: the part every checking command
// shares. The run's result is never written to after it: what the command adds
// (where targets were found, the bounce's diagnosis, changes since the last
// run, hints, what it could not read) goes into the view, which decides the
// one verdict that every format and the exit code read.
func execute(ctx context.Context, s *streams, ro *resolverOptions, oo *outputOptions, lists []catalog.Selected,
	warnings []string, targets *targetInput, found *findings) error {
	for _, w := range warnings {
		fmt.Fprintf(s.err, "blcheck: warning: %s\n", w)
	}
	render, ok := report.Lookup(oo.format)
	if !ok {
		return usagef("--format %q: use one of %s", oo.format, strings.Join(report.Formats(), ", "))
	}
	store, err := openState(s, oo.state)
	if err != nil {
		return err
	}
	if store != nil {
		defer store.Close()
	}
	client, servers, err := ro.client(s)
	if err != nil {
		return err
	}
	defer client.Close()
	go client.Prepare(ctx)          // its socket, while the run is planned
	out := &checkedWriter{w: s.out} // a full disk or a closed pipe is an error, in every format
	ropts := report.Options{Color: colorEnabled(s, oo.noColor), Quiet: oo.quiet, Warning: oo.warning, Critical: oo.critical}
	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if oo.deadline > 0 {
		runCtx, cancel = context.WithTimeoutCause(ctx, oo.deadline, errDeadline)
	}
	if found != nil {
		ropts.Locations = found.locations
	}
	if oo.format == "json" { // while the answers come, once the queries are out
		warm := time.AfterFunc(warmAfter, report.WarmJSON)
		defer warm.Stop()
	}
	var observe func(*dnsbl.TargetResult, dnsbl.Check)
	if found != nil {
		observe = found.observe
	}
	res, err := runChecks(runCtx, s, ro, oo, client, lists, targets, store, out, &ropts, observe)
	cancel()
	if err != nil {
		return err
	}
	v := newView(res, servers, warnings, lists, found)
	// the deadline stopped it, not a signal: it passed, or a list's rate would
	// have passed it (the run ends before it, cut short)
	if res.Summary.Interrupted && ctx.Err() == nil && oo.deadline > 0 {
		v.Deadline = oo.deadline
		v.Incomplete = append(v.Incomplete, report.DeadlineReason(oo.deadline))
	}
	// the same warnings on stderr in every format, each once (text and Nagios
	// also say them in their output)
	direct := res.Direct.Incomplete()
	if oo.format == "jsonl" { // the refusals were said as they came (runChecks)
		direct = direct[len(res.Direct.Refused):]
	}
	warn := append(direct, listWarnings(res)...)
	switch {
	case oo.format == "text" && s.outTTY && s.errTTY:
		warn = nil // the report on the same screen says them above its summary
	case oo.format == "text" && oo.quiet && store != nil:
		warn = direct // the changes say a list when it begins failing: cron stays silent until then
	}
	for _, w := range warn {
		fmt.Fprintf(s.err, "blcheck: warning: %s\n", w)
	}
	for _, w := range targets.changed {
		fmt.Fprintf(s.err, "blcheck: warning: %s\n", w)
		v.Incomplete = append(v.Incomplete, w)
	}
	if store != nil {
		recordState(s, store, v, ropts.Lines != nil)
	}
	if found != nil && found.dmarc != nil { // new sources: by the state as the last run left it
		v.DMARC = found.dmarc.doc(res, store)
	}
	v.Decide(oo.strict)
	ropts.Now = time.Now()
	return exitFor(oo.format, v, ropts, deliver(s, oo, render, out, v, ropts))
}

// errDeadline is the cause of a run's end at --deadline.
var errDeadline = errors.New("the --deadline passed")

// deadlineValue is --deadline's value: a duration, or a number of seconds as
// check_rbl's -t takes it.
type deadlineValue time.Duration

func (d *deadlineValue) String() string {
	if *d == 0 {
		return "0"
	}
	return time.Duration(*d).String()
}

func (d *deadlineValue) Set(v string) error {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && n <= 1e6 {
		*d = deadlineValue(time.Duration(n * float64(time.Second)))
		return nil
	}
	x, err := time.ParseDuration(v)
	if err != nil || x < 0 {
		return errors.New("not a duration")
	}
	*d = deadlineValue(x)
	return nil
}

func (d *deadlineValue) Type() string { return "duration" }

// runChecks runs the engine over the targets, streaming JSON lines (into
// o.Lines) and a progress bar as checks complete.
func runChecks(ctx context.Context, s *streams, ro *resolverOptions, oo *outputOptions, client *resolver.Client,
	lists []catalog.Selected, targets *targetInput, store *state.Store, out io.Writer, o *report.Options,
	observe func(*dnsbl.TargetResult, dnsbl.Check)) (_ *dnsbl.Result, err error) {
	opts := dnsbl.Options{
		Lists: lists, Rate: ro.rate, Resolver: client,
		AllowPrivate: oo.allowPrivate, SPF: oo.spf, PTR: oo.ptr, NS: oo.ns, TXT: txtPolicies[oo.txt],
	}
	run := dnsbl.RunOptions{Stream: oo.format == "jsonl", Shard: ro.shard,
		Eager: dnsbl.EagerRun(opts.TXT, targets.count, targets.ranges)}
	var checks []func(*dnsbl.TargetResult, dnsbl.Check)
	if observe != nil {
		checks = append(checks, observe)
	}
	if run.Stream {
		o.Lines = report.NewJSONLines(out)
		o.Lines.Hint, o.Lines.Locations = hint, o.Locations
		if oo.deadline > 0 { // ctx is the run's: its deadline's cause, or the signal's
			o.Lines.Stopped = func() string {
				if ctx.Err() == nil || errors.Is(context.Cause(ctx), errDeadline) { // passed, or a rate would pass it
					return report.StoppedAt(oo.deadline)
				}
				return ""
			}
		}
		if store != nil { // each streamed check's change since the last run
			o.Lines.Change = store.Check
		}
		checks = append(checks, o.Lines.Check)
		run.Observer.Target = o.Lines.Target
	}
	if run.Stream { // said on stderr as it comes, before the lines it makes incomplete
		run.Observer.Refused = func(ref dnsbl.DirectRefusal) {
			fmt.Fprintf(s.err, "blcheck: warning: %s refuses queries from this machine too (asked at its own servers): %s\n",
				ref.List.Name, ref.Why)
		}
	}
	bar := progress(s, lists, targets, ro, oo.quiet || !oo.progress)
	if bar != nil {
		checks = append(checks, func(*dnsbl.TargetResult, dnsbl.Check) { _ = bar.Add(1) })
		defer func() { _ = bar.Finish(); _ = bar.Clear() }() // on every way out
	}
	var lines *progressLines
	if bar == nil && progressLinesWanted(s, oo) {
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		if lines = newProgressLines(s.err, estimateRun(lists, targets, ro), tick.C); lines != nil {
			checks = append(checks, func(*dnsbl.TargetResult, dnsbl.Check) { lines.check() })
			defer lines.finish() // on every way out: its goroutine ends
		}
	}
	if len(checks) > 0 {
		run.Observer.Check = func(t *dnsbl.TargetResult, c dnsbl.Check) {
			for _, f := range checks {
				f(t, c)
			}
		}
	}
	if opts.Iterator, err = ro.iterator(); err != nil {
		return nil, err
	} else if opts.Iterator != nil {
		defer opts.Iterator.Close()
	}
	opts.Direct = ro.mode
	ck, err := dnsbl.New(opts)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	res, err := ck.Run(ctx, targets.seq(), run)
	if o.Lines != nil {
		o.Lines.Flush() // the lines streamed are all out when the run ends, as before any warning
	}
	if errors.Is(err, dnsbl.ErrClosed) {
		return nil, err
	}
	return res, nil
}

// newView is a run's view: the result, and what the command adds to it.
func newView(res *dnsbl.Result, servers, warnings []string, lists []catalog.Selected, found *findings) *report.View {
	v := &report.View{Result: res, Resolvers: servers, Warnings: warnings, Names: map[string]*catalog.List{}, Hint: hint}
	for _, l := range lists {
		v.Names[l.ID] = l.List
	}
	if found != nil {
		v.Locations, v.Ignored = found.locations, found.ignored
		v.Incomplete = append(v.Incomplete, found.incomplete...)
		if found.unasked != nil && !res.Summary.Interrupted { // cut short: the lists not reached are said so
			v.Incomplete = append(v.Incomplete, found.unasked()...)
		}
		if found.diagnose != nil {
			v.Bounce, v.Diagnosis = found.bounce, found.diagnose(res)
		}
	}
	return v
}

// openState opens --state, if given.
func openState(s *streams, path string) (*state.Store, error) {
	if path == "" {
		return nil, nil
	}
	store, warn, err := state.Open(path)
	var pe *state.PathError
	if errors.As(err, &pe) { // a path blcheck will not use: nothing was queried or written
		return nil, usagef("--state %s: %s", pe.Path, strings.Replace(pe.Reason, "for the state", "for --state", 1))
	}
	if err != nil {
		return nil, fmt.Errorf("--state: %v", err)
	}
	if warn != "" {
		fmt.Fprintf(s.err, "blcheck: warning: %s\n", warn)
	}
	return store, nil
}

// recordState compares the run with the last one (the view's changes) and
// saves it for the next; a state that could not be saved makes the run
// incomplete (the next run would report old news as new).
func recordState(s *streams, store *state.Store, v *report.View, streamed bool) {
	res := v.Result
	if !streamed { // streamed checks were compared as they came
		v.Changes = map[string]string{}
		for _, tr := range res.Targets {
			for _, c := range tr.Checks {
				v.Changes[report.ChangeKey(c)] = store.Check(c)
			}
		}
	}
	for _, l := range res.Lists {
		ch := store.List(l.List.ID, l.Health, l.EveryQueryFailed())
		if ch == "" {
			continue
		}
		h := l.Health
		if ch == state.ListFailing && l.EveryQueryFailed() && !h.Untrusted() && h.State != dnsbl.HealthBlocked &&
			h.State != dnsbl.HealthNoAnswer { // no-answer's detail says how its test query failed
			h = dnsbl.Health{State: dnsbl.HealthNoAnswer, Detail: fmt.Sprintf("all %d of this run's queries to it failed", l.Failed)}
			if l.Failed == 1 {
				h.Detail = "the one query this run sent it failed"
			}
		}
		v.ListChanges = append(v.ListChanges, report.ListChange{List: l.List, Change: ch, Health: h})
	}
	store.Keep()
	if err := store.Save(); err != nil {
		fmt.Fprintf(s.err, "blcheck: --state: %v\n", err)
		v.Incomplete = append(v.Incomplete, fmt.Sprintf("the state could not be saved (--state): %v", err))
	}
}

// listWarnings says which lists failed their health check in the run, one
// line per state (a dead resolver fails every list the same way: one line, not
// one per list), with the first list's detail. A run stopped early (a signal,
// --deadline) says nothing of the lists whose test points it cut short
// (interrupted): its summary says what it did not finish.
func listWarnings(res *dnsbl.Result) []string {
	var states []dnsbl.HealthState
	byState := map[dnsbl.HealthState][]dnsbl.ListHealth{}
	for _, l := range res.Lists {
		switch l.Health.State {
		case dnsbl.HealthOK, dnsbl.HealthNeedsKey, dnsbl.HealthUntested, dnsbl.HealthUnused, dnsbl.HealthInterrupted:
			continue
		}
		if byState[l.Health.State] == nil {
			states = append(states, l.Health.State)
		}
		byState[l.Health.State] = append(byState[l.Health.State], l)
	}
	var out []string
	if cause, n, down := report.ResolverDown(res); down { // one line for the resolver, not one blaming each list
		out = append(out, fmt.Sprintf("no list answered through the resolver: all %d lists asked failed their health check "+
			"the same way (no-answer), so the resolver, or the path to it, is at fault, not the lists: %s", n, cause))
		delete(byState, dnsbl.HealthNoAnswer)
	}
	for _, st := range states {
		ls := byState[st]
		if len(ls) == 0 {
			continue
		}
		if len(ls) == 1 {
			out = append(out, fmt.Sprintf("list %s failed its health check (%s): %s", ls[0].List.ID, st, ls[0].Health.Detail))
			continue
		}
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.List.ID)
		}
		out = append(out, fmt.Sprintf("%d lists failed their health check (%s): %s (%s: %s)", len(ls), st,
			strings.Join(ids, ", "), ls[0].List.ID, ls[0].Health.Detail))
	}
	return out
}

// deliver renders the view where it goes (stdout, or -o prometheus --output
// FILE), with what a format adds beside it: GitHub's step summary, JSON lines'
// list warnings on stderr. It returns the error that kept it from the reader.
func deliver(s *streams, oo *outputOptions, render report.Renderer, out *checkedWriter, v *report.View, o report.Options) error {
	var err error
	if oo.output != "" {
		var buf bytes.Buffer
		if err = render(&buf, v, o); err == nil {
			err = writeAtomic(oo.output, buf.Bytes())
		}
	} else if oo.format == "text" && s.outTTY && s.width > 0 { // wrapped to the terminal
		var buf bytes.Buffer
		if err = render(&buf, v, o); err == nil {
			_, err = out.Write(wrapTerminal(buf.Bytes(), max(s.width, minHelpWidth)))
		}
	} else {
		err = render(out, v, o)
	}
	switch oo.format {
	case "github":
		if path := s.getenv("GITHUB_STEP_SUMMARY"); path != "" && err == nil {
			err = appendStepSummary(path, v)
		}
	}
	if err == nil {
		err = out.err
	}
	if err != nil {
		fmt.Fprintf(s.err, "blcheck: cannot write the output: %v\n", err)
	}
	return err
}

// exitFor is the one mapping from a view's verdict to the exit code: the
// contract's, or with --format nagios the plugin state. Output that could not
// be delivered is never a silent success.
func exitFor(format string, v *report.View, o report.Options, writeErr error) error {
	code := v.Verdict.ExitCode() // as the JSON summary's and JSON lines' exit_code say it
	if format == "nagios" && v.Verdict.Outcome != dnsbl.OutcomeInterrupted {
		code = report.NagiosState(v, o.Warning, o.Critical)
	}
	if writeErr != nil && code == exitClean {
		code = exitIncomplete // the result was not delivered
	}
	if code == exitClean {
		return nil
	}
	return &exitError{code}
}

// checkedWriter keeps the first write error, so that output that could not be
// written (a full disk, a closed pipe) is reported whatever the format.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// progress returns a progress bar on stderr for runs large enough to want one,
// when stderr is a terminal; nil otherwise.
func progress(s *streams, lists []catalog.Selected, in *targetInput, ro *resolverOptions, quiet bool) *progressbar.ProgressBar {
	if !s.errTTY || quiet {
		return nil
	}
	total := estimateRun(lists, in, ro).checks // this machine's share, with --shard
	if in.domains > 0 {
		total = -1 // unknown until DNS says how many addresses there are
	}
	if total >= 0 && total < 500 || total < 0 && in.count < 20 {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(s.err),
		progressbar.OptionSetDescription("checking"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("checks"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// appendStepSummary appends the run's Markdown summary to $GITHUB_STEP_SUMMARY,
// a file the Actions runner gives each step: appended to, never replaced.
func appendStepSummary(path string, v *report.View) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %v", pathError(err))
	}
	if err := report.GitHubSummary(f, v); err != nil {
		f.Close()
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %v", err)
	}
	return f.Close()
}

// privateHint is what the CLI adds to the library's word on a private address.
const privateHint = " (--allow-private sends it)"

// hint is what the CLI adds to the library's word on a skip (the library
// names no flag): a private address from DNS is sent by --allow-private.
func hint(reason error) string {
	if errors.Is(reason, dnsbl.ErrSkipPrivate) {
		return privateHint
	}
	return ""
}

// promHeader is how a file that -o prometheus wrote begins.
const promHeader = "# HELP blcheck_"

// checkOutputFile refuses, before anything is queried, an --output that is not
// for -o prometheus, or a path blcheck would overwrite though it did not write
// it: a directory, a device, a symbolic link, or a file with other contents.
func checkOutputFile(path, format string) error {
	if path == "" {
		return nil
	}
	if format != "prometheus" {
		return usagef("--output %s: --output is for -o prometheus (other formats write to stdout)", path)
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir, err := os.Stat(filepath.Dir(path))
		if err != nil || !dir.IsDir() {
			return usagef("--output %s: its directory %s does not exist", path, filepath.Dir(path))
		}
		return nil
	case err != nil:
		return usagef("--output %s: %v", path, pathError(err))
	case !fi.Mode().IsRegular():
		return usagef("--output %s: not a regular file (a directory, link or device): blcheck will not replace it", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return usagef("--output %s: %v", path, pathError(err))
	}
	defer f.Close()
	head := make([]byte, len(promHeader))
	n, _ := io.ReadFull(f, head)
	if n > 0 && string(head[:n]) != promHeader {
		return usagef("--output %s: the file holds something blcheck did not write: blcheck will not overwrite it "+
			"(remove it, or name another file)", path)
	}
	return nil
}

// outputDirWritable refuses, before anything is queried, an --output in a
// directory where its temporary file cannot be made: the run would be lost.
func outputDirWritable(path string) error {
	if path == "" {
		return nil
	}
	tmp, err := tempBeside(path)
	if err != nil {
		return usagef("--output %s: %v", path, writeError(err))
	}
	err = tmp.Close()
	if rerr := os.Remove(tmp.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return usagef("--output %s: %v", path, writeError(err))
	}
	return nil
}

// tempBeside makes the hidden temporary file that writeAtomic renames over path.
func tempBeside(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
}

// writeError is a failure to create a file, said as one (pathError says "cannot read").
func writeError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot write in %s: %v", filepath.Dir(pe.Path), pe.Err)
	}
	return err
}

// writeAtomic replaces path with data: written to a temporary file beside it,
// then renamed over it, so that a reader (node_exporter) never sees half a file.
// The file is checked again just before (checkOutputFile checked it before the
// run, which may have taken hours): what became someone else's is kept.
func writeAtomic(path string, data []byte) error {
	tmp, err := tempBeside(path)
	if err != nil {
		return fmt.Errorf("--output %s: %v", path, writeError(err))
	}
	_, werr := tmp.Write(data)
	if err := tmp.Chmod(0o644); err != nil && werr == nil {
		werr = err
	}
	if err := tmp.Close(); err != nil && werr == nil {
		werr = err
	}
	if werr == nil {
		if err := checkOutputFile(path, "prometheus"); err != nil {
			werr = errors.New(strings.TrimPrefix(err.Error(), "--output "+path+": ")) // not a usage error: the run is done
		}
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %v", path, pathError(werr))
	}
	return nil
}
