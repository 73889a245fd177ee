package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Set at build time by make build and make dist:
//
//	-ldflags "-X github.com/blcheck/blcheck/internal/cli.version=0.1.0 -X ...cli.commit=<hash> -X ...cli.date=<RFC 3339>"
//
// version is `git describe` without its leading v, commit the full commit hash and
// date the commit's date (not the build's: two builds of one commit are the same
// bytes). Left empty, they come from the build info: the module version that `go
// install ...@v0.1.0` records, or the commit that `go build` in a checkout stamps.
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what `blcheck version` prints.
type buildInfo struct {
	version, commit, date string
	modified              bool // built from a checkout with uncommitted changes
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: version, commit: commit, date: date}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b.withDefaults()
	}
	if b.version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.version = strings.TrimPrefix(bi.Main.Version, "v")
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.commit == "" {
				b.commit = s.Value
			}
		case "vcs.time":
			if b.date == "" {
				b.date = s.Value
			}
		case "vcs.modified":
			b.modified = s.Value == "true" && commit == ""
		}
	}
	return b.withDefaults()
}

// withDefaults names a build without a version after its commit ("devel-<hash>"),
// and one without either "dev".
func (b buildInfo) withDefaults() buildInfo {
	if b.version == "" {
		b.version = "dev"
		if b.commit != "" {
			b.version = "devel-" + shortHash(b.commit)
			if b.modified {
				b.version += "-dirty"
			}
		}
	}
	return b
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// commitTime is the commit's date, for the man pages' date; false if unknown.
func (b buildInfo) commitTime() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, b.date)
	return t.UTC(), err == nil
}

func versionString() string { return readBuildInfo().version }

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print blcheck's version, commit and commit date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			c, d := b.commit, b.date
			if c == "" {
				c = "unknown"
			}
			if b.modified {
				c += " (modified)"
			}
			if d == "" {
				d = "unknown"
			}
			_, err := fmt.Fprintf(s.out, "blcheck %s\ncommit: %s\ndate: %s\ngo: %s %s/%s\n",
				b.version, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
