// Package cli is the command line of blcheck (cmd/blcheck) and of its
// exporter, blcheck-serve (cmd/blcheck-serve): Main parses the arguments,
// runs the command and exits with the contract's code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/blcheck/blcheck/pkg/report"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// Exit codes, per blcheck's contract.
const (
	exitClean      = 0
	exitListed     = 1
	exitUsage      = 2
	exitIncomplete = 3
	exitInterrupt  = 130
)

// streams is what a command reads and writes: the process's own, or a test's.
type streams struct {
	in     io.Reader
	out    io.Writer
	err    io.Writer
	getenv func(string) string
	outTTY bool   // stdout is a terminal
	errTTY bool   // stderr is a terminal (progress bars)
	resolv string // resolv.conf path
	width  int    // stdout's width in columns when it is a terminal (help is wrapped to it)
	// lookup resolves a --resolver host name; nil: the system's resolver
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// exporter runs `blcheck serve`; nil: serve runs blcheck-serve
	exporter Exporter
	args     []string // the arguments run was given
}

// Main runs blcheck with the process's arguments, and exits. exp is the
// exporter of `blcheck serve`: the blcheck binary passes nil (its serve runs
// blcheck-serve), and blcheck-serve passes its exporter and the word "serve",
// so that it runs `blcheck serve` and nothing else.
func Main(exp Exporter, prefix ...string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed pipe on stdout is a write error that blcheck reports (and --state
	// is still saved), not a silent death by SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	io := &streams{
		in: os.Stdin, out: os.Stdout, err: os.Stderr, getenv: os.Getenv,
		outTTY: isatty.IsTerminal(os.Stdout.Fd()) || isatty.IsCygwinTerminal(os.Stdout.Fd()),
		errTTY: isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()),
		resolv: "/etc/resolv.conf", width: terminalWidth(), exporter: exp,
	}
	os.Exit(run(ctx, append(prefix, os.Args[1:]...), io))
}

// usageError is a bad flag, target, file or catalog: nothing was checked (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

// exitError carries a command's exit code when it has already reported its result.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run is the whole program: parse args, run the command, and map its error to an
// exit code. It is what the tests call.
func run(ctx context.Context, args []string, s *streams) int {
	root := newTree(s, needsTree(args))
	s.args = args
	// a check whose output is for Nagios: its usage errors are Nagios's UNKNOWN
	nagios := false
	if cmd, _, err := root.Find(args); err == nil && (cmd == root || cmd.Name() == "check") { // the one with --critical
		s.args = nagiosArgs(args, s.getenv("BLCHECK_FORMAT"))
		nagios = wantsNagios(args, s.getenv("BLCHECK_FORMAT"))
	}
	root.SetArgs(s.args)
	root.SetIn(s.in)
	out := &checkedWriter{w: s.out} // --help and --version into a full disk are a failure, not exit 0
	root.SetOut(helpOut{out})
	root.SetErr(s.err)
	stopHangup := func() {}
	defer func() { stopHangup() }()
	fromEnv := map[string]string{} // flags set by BLCHECK_<FLAG>, for messages
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd, s, fromEnv); err != nil {
			return err
		}
		if cmd.Name() == "serve" { // SIGHUP reloads the exporter's configuration
			return nil
		}
		// a closed terminal or session ends a run as SIGTERM does: what finished
		// is printed and saved, exit 130
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGHUP)
		cmd.SetContext(ctx)
		stopHangup = stop
		return nil
	}
	cmd, err := root.ExecuteContextC(ctx)
	var ue *usageError
	if errors.As(err, &ue) {
		if note := envNote(ue.Error(), fromEnv); note != "" {
			ue.err = fmt.Errorf("%w\nblcheck: %s", ue.err, note)
		}
	}
	help := "blcheck --help"
	if cmd != nil && cmd != root && (cmd.Name() != "help" || cmd.Parent() != root) { // help's topics are root's commands
		help = cmd.CommandPath() + " --help"
	}
	code := exitCode(err, s, help)
	if code == exitUsage && nagios && errors.As(err, &ue) {
		// a plugin's bad arguments are UNKNOWN to Nagios, whose CRITICAL (2)
		// would page someone for a listing that nobody checked
		msg, _, _ := strings.Cut(elideLines(ue.err.Error()), "\n")
		fmt.Fprintf(s.out, "BLCHECK UNKNOWN - %s\n", msg)
		return report.NagiosUnknown
	}
	switch {
	case code != exitClean || out.err == nil:
	case errors.Is(out.err, syscall.EPIPE):
		// `blcheck help scan | head`: the reader had what it wanted. Help
		// holds no verdict to lose, so this is not the failure a full disk is.
	default:
		fmt.Fprintf(s.err, "blcheck: writing the output: %v\n", out.err)
		return exitIncomplete
	}
	return code
}

// helpOut is where cobra writes help, usage, --version and completions: a
// failed write is kept in the checkedWriter for run to report, once, and not
// handed back to cobra, which would print it too.
type helpOut struct{ *checkedWriter }

func (h helpOut) Write(p []byte) (int, error) {
	_, _ = h.checkedWriter.Write(p)
	return len(p), nil
}

// nagiosArgs makes -c mean --critical when the output is for Nagios, as in
// check_rbl; elsewhere -c is --concurrency. (Both names are in blcheck's contract.)
// envFormat is $BLCHECK_FORMAT, which sets the format when no flag does.
func nagiosArgs(args []string, envFormat string) []string {
	nagios := wantsNagios(args, envFormat)
	if !nagios {
		return args
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == "--":
			nagios = false
			out = append(out, a)
		case nagios && a == "-c":
			out = append(out, "--critical")
		case nagios && strings.HasPrefix(a, "-c=") && len(a) > 3:
			out = append(out, "--critical="+a[3:])
		case nagios && strings.HasPrefix(a, "-c") && len(a) > 2 && a[2] >= '0' && a[2] <= '9':
			out = append(out, "--critical="+a[2:])
		default:
			out = append(out, a)
		}
	}
	return out
}

// wantsNagios reports whether the output asked for is Nagios's, by a flag
// or, with no --format flag, by $BLCHECK_FORMAT.
func wantsNagios(args []string, envFormat string) bool {
	nagios, flagged := false, false
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == "--format=nagios" || a == "-onagios" || a == "-o=nagios" ||
			(a == "--format" || a == "-o") && i+1 < len(args) && args[i+1] == "nagios" {
			nagios = true
		}
		flagged = flagged || a == "--format" || a == "-o" || strings.HasPrefix(a, "--format=") ||
			strings.HasPrefix(a, "-o") && a != "-o"
	}
	return nagios || !flagged && envFormat == "nagios"
}

// maxErrorLine is the longest line of a usage error said in full: a bad target
// of 70,000 characters (a line of a --file) is not echoed whole.
const maxErrorLine = 400

// elideLines shortens each line of msg longer than maxErrorLine to its start
// and its end, which say what was wrong, with how much was left out between.
func elideLines(msg string) string {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if len(l) <= maxErrorLine {
			continue
		}
		head, tail := maxErrorLine/2, len(l)-maxErrorLine/2
		for head > 0 && !utf8.RuneStart(l[head]) {
			head--
		}
		for tail < len(l) && !utf8.RuneStart(l[tail]) {
			tail++
		}
		lines[i] = fmt.Sprintf("%s[... %d bytes ...]%s", l[:head], tail-head, l[tail:])
	}
	return strings.Join(lines, "\n")
}

// exitCode is blcheck's one error-to-exit-code switch.
// help names the --help of the command that failed.
func exitCode(err error, s *streams, help string) int {
	var ee *exitError
	var ue *usageError
	switch {
	case err == nil:
		return exitClean
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(s.err, "blcheck: %s\n", elideLines(ue.err.Error()))
		fmt.Fprintf(s.err, "Run '%s' for usage.\n", help)
		return exitUsage
	default:
		fmt.Fprintf(s.err, "blcheck: %v\n", err)
		return exitIncomplete
	}
}

const rootLong = `blcheck checks whether a mail server, a domain or the domains in a message are on
DNS blacklists, and says what each listing means and where to get delisted.

TARGET is an IPv4 or IPv6 address, a CIDR range (IPv4 up to /16, IPv6 up to /112),
a domain or host name (IDN allowed), a URL (its host is checked) or an e-mail
address (its domain is checked). "-" reads targets from standard input, one per
line; --file reads them from a file. A domain is checked as receivers judge a
sender: the domain on domain lists, and the addresses of its A/AAAA records and
of its MX hosts on IP lists.

Every (subject, list) pair gets one status: listed, clean, blocked (the list
refused this resolver), error (timeout, SERVFAIL, bad answer), unreliable (the
list failed its RFC 5782 health check in this run), skipped, noted (listed for
something that does not count in the subject's role: a link host on PBL) or
allowlisted. A failed query is never reported as clean, and an answer that is
not a listing never as listed.

EXIT STATUS
  0  every applicable list answered for every subject, and none lists it
     (skipped, noted and allowlisted checks do not count against this)
  1  at least one subject is listed
  2  usage or input error: nothing was checked
  3  nothing listed, but the check is incomplete: some list was error, blocked
     or unreliable for some subject, the resolver could not be reached, a
     file was not fully read, the --deadline passed, the --state file could
     not be saved, or no list was asked about a target (an IPv6 address with
     only IPv4 lists); --strict=false restores the rule of earlier releases
     (exit 3 only when every list failed for some subject)
  130 interrupted (SIGINT, SIGTERM, SIGHUP): what finished is printed and the
      --state saved`

// buildCommands are commands compiled in only for building the project, such as
// docs (go build -tags docs): what users run does not carry their dependencies.
var buildCommands []func(s *streams, root func() *cobra.Command) *cobra.Command

// subcommandWords are the words that name a subcommand, or ask for help or
// for shell completion: cobra's help, completion and __complete included.
var subcommandWords = map[string]bool{"check": true, "lists": true, "scan": true, "bounce": true, "dmarc": true,
	"serve": true, "version": true, "help": true, "completion": true,
	cobra.ShellCompRequestCmd: true, cobra.ShellCompNoDescRequestCmd: true}

// needsTree reports whether args may name a subcommand or ask for help: else
// they are a check, which the root command runs alone. Building the others'
// flags and completions is about half of a check's time from start to first
// query (0.45 of 1.6ms, measured from main). Any word that might do so counts,
// wherever it is ("-r 192.0.2.1 scan" is a scan; a target that is the word
// "scan" makes cobra take it as one, as it always did); so does -h among short
// flags (-qh), and any build command (go build -tags docs).
func needsTree(args []string) bool {
	if len(buildCommands) > 0 {
		return true
	}
	for _, a := range args {
		switch {
		case subcommandWords[a], a == "--help", strings.HasPrefix(a, "--help="):
			return true
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsRune(a, 'h'):
			return true
		}
	}
	return false
}

func newRootCmd(s *streams) *cobra.Command { return newTree(s, true) }

// newTree is the root command, with its subcommands when full: without them
// it runs a check, and its help (which lists them) is never asked for.
func newTree(s *streams, full bool) *cobra.Command {
	opts := &checkOptions{}
	root := &cobra.Command{
		Use:           "blcheck [flags] TARGET...",
		Short:         "Check IP addresses, domains and mail against DNS blacklists",
		Long:          rootLong,
		Example:       checkExamples,
		Version:       "read when asked", // non-empty: cobra adds --version, whose template reads the build
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), s, opts, args)
		},
	}
	root.SetVersionTemplate("blcheck {{blcheckVersion}}\n")
	root.SetFlagErrorFunc(flagError)
	opts.addFlags(root)
	if full {
		root.AddCommand(newCheckCmd(s), newListsCmd(s), newScanCmd(s), newBounceCmd(s), newDMARCCmd(s), newServeCmd(s), newVersionCmd(s))
	}
	for _, c := range append([]*cobra.Command{root}, root.Commands()...) {
		if envCommand(c) && c.Long != "" {
			c.Long += "\n\n" + envSection
		}
	}
	for _, extra := range buildCommands {
		root.AddCommand(extra(s, func() *cobra.Command { return newRootCmd(s) }))
	}
	usageArgs(root)
	if full { // help and completion are only asked of the whole tree (needsTree)
		setHelp(root, s)
	}
	return root
}

// usageArgs makes a command's (and its subcommands') argument check a usage
// error, as a bad flag is: `blcheck lists extra` exits 2, not 3.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err != nil && !IsUsageError(err) {
				return &usageError{err}
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

func newCheckCmd(s *streams) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:     "check [flags] TARGET...",
		Short:   "Check targets against DNS blacklists (the default command)",
		Long:    rootLong,
		Example: checkExamples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), s, opts, args)
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	opts.addFlags(cmd)
	return cmd
}

const checkExamples = `  blcheck 192.0.2.10                       # one address, every default list
  blcheck example.com                      # a domain, its A/AAAA and MX hosts
  blcheck --format json mx.example.org     # for scripts (-q is for text)
  blcheck --file servers.txt -o jsonl      # many targets, a JSON line per check
  blcheck -l spamhaus-zen -l spamcop 2001:db8::25`

func colorEnabled(s *streams, noColor bool) bool {
	if noColor || !s.outTTY {
		return false
	}
	if _, set := lookupEnv(s, "NO_COLOR"); set {
		return false
	}
	return !strings.EqualFold(s.getenv("TERM"), "dumb")
}

func lookupEnv(s *streams, name string) (string, bool) {
	v := s.getenv(name)
	return v, v != ""
}
