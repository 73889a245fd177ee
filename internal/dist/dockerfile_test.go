//go:build dist

package main

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// checkDockerfile reads contrib/Dockerfile against the linux archive it is
// built from (docker is not here to build it): the archive its ADD names is
// this one for the platform's TARGETARCH, every file a COPY --from=release
// takes is in it, and the image gets the licenses with the binaries.
func checkDockerfile(t *testing.T, archive string, members []string) {
	t.Helper()
	b, err := os.ReadFile("../../contrib/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var added bool
	copied := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 3 && f[0] == "ADD":
			pattern := strings.ReplaceAll(f[1], "${TARGETARCH}", "amd64")
			ok, err := filepath.Match(pattern, "dist/"+filepath.Base(archive))
			added = added || ok
			if err != nil || !ok || f[2] != "/release/" {
				t.Errorf("Dockerfile: %q does not unpack %s into /release/ (%v)", line, filepath.Base(archive), err)
			}
		case len(f) >= 4 && f[0] == "COPY" && f[1] == "--from=release":
			for _, src := range f[2 : len(f)-1] {
				n := 0
				for _, m := range members {
					if ok, _ := path.Match(src, "/release/"+m); ok {
						n++
						copied[path.Base(m)] = true
					}
				}
				if n != 1 {
					t.Errorf("Dockerfile: COPY %s matches %d files of the archive, want 1", src, n)
				}
			}
		}
	}
	if !added {
		t.Error("Dockerfile: no ADD of the release archive")
	}
	for _, want := range []string{"blcheck", "blcheck-serve", "LICENSE", thirdPartyName} {
		if !copied[want] {
			t.Errorf("Dockerfile: the image does not get %s from the archive", want)
		}
	}
}
