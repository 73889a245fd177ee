package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix begins the environment variable of every flag: --resolver is
// BLCHECK_RESOLVER, --root-hints BLCHECK_ROOT_HINTS.
const envPrefix = "BLCHECK_"

// envName is the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envSkip are the flags no variable sets: --help and --version; --key (each
// key has a variable of its own, named by the catalog); --direct and
// --root-hints, which read BLCHECK_DIRECT and BLCHECK_ROOT_HINTS themselves
// (the same names) to say which of flag and variable a bad value came from.
var envSkip = map[string]bool{"help": true, "version": true, "key": true, "direct": true, "root-hints": true}

// envCommands are the commands whose flags the environment sets.
func envCommand(cmd *cobra.Command) bool {
	switch cmd.Name() {
	case "version", "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return false
	}
	return !cmd.Hidden && (cmd.Parent() == nil || cmd.Parent().Name() != "completion")
}

// applyEnv gives every flag of cmd not on the command line the value of its
// variable, when that is set and not empty: a cron line or a Nagios command
// need not repeat --resolver and --list. A repeatable flag's variable is a
// comma-separated list. fromEnv records each flag set so, for messages.
func applyEnv(cmd *cobra.Command, s *streams, fromEnv map[string]string) error {
	if !envCommand(cmd) {
		return nil
	}
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || envSkip[f.Name] || f.Hidden {
			return
		}
		name := envName(f.Name)
		v := strings.TrimSpace(s.getenv(name))
		if v == "" {
			return
		}
		values := []string{v}
		if f.Value.Type() == "stringArray" {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if e := f.Value.Set(strings.TrimSpace(one)); e != nil {
				err = usagef("%s=%q: %s (for --%s)", name, v, valueWhy(f), f.Name)
				return
			}
		}
		fromEnv[f.Name] = name + "=" + v
	})
	return err
}

// envNote says which flags named in a usage error came from the environment,
// so that a bad BLCHECK_FORMAT is not taken for a bad --format.
func envNote(msg string, fromEnv map[string]string) string {
	var notes []string
	for flag, set := range fromEnv {
		if strings.Contains(msg, "--"+flag) {
			notes = append(notes, fmt.Sprintf("--%s came from the environment: %s", flag, set))
		}
	}
	sort.Strings(notes)
	return strings.Join(notes, "\n")
}

// envSection is the ENVIRONMENT part of the help and man pages.
const envSection = `ENVIRONMENT
  BLCHECK_<FLAG>  every flag of the checking commands (check, scan, bounce,
                  dmarc, lists, serve) not given on the command line takes its
                  value from BLCHECK_ and the flag's name in capitals, "-" as
                  "_": BLCHECK_RESOLVER=127.0.0.1, BLCHECK_LIST=zen,spamcop,
                  BLCHECK_TIMEOUT=5s, BLCHECK_QUIET=true. A flag on the command
                  line wins; an empty variable is not set. A repeatable flag's
                  variable takes a comma-separated list.
  BLCHECK_DIRECT, BLCHECK_ROOT_HINTS
                  --direct and --root-hints, as above.
  BLCHECK_SPAMHAUS_DQS_KEY, BLCHECK_ABUSIX_KEY, ...
                  account keys of keyed lists (the catalog names each list's
                  variable; blcheck lists shows them). Never printed.
  NO_COLOR        no colour in text output.`
