//go:build dist

package main

import (
	"embed"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
)

// scriptFiles are the packages' maintainer scripts, each format's own: dpkg
// passes words (configure, remove, purge, upgrade), rpm counts (how many of
// the package are left). They tell systemd of the exporter's unit, restart a
// running exporter on upgrade and stop it on removal; none enables or starts it.
//
//go:embed scripts
var scriptFiles embed.FS

// writeScripts writes the scripts into dir for nfpm, which reads them from files.
func writeScripts(dir string) (map[string]nfpm.Scripts, error) {
	paths := map[string]string{}
	for _, name := range []string{"deb-postinst", "deb-prerm", "deb-postrm", "rpm-post", "rpm-preun", "rpm-postun"} {
		b, err := scriptFiles.ReadFile("scripts/" + name)
		if err != nil {
			return nil, err
		}
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], b, 0o755); err != nil {
			return nil, err
		}
	}
	return map[string]nfpm.Scripts{
		"deb": {PostInstall: paths["deb-postinst"], PreRemove: paths["deb-prerm"], PostRemove: paths["deb-postrm"]},
		"rpm": {PostInstall: paths["rpm-post"], PreRemove: paths["rpm-preun"], PostRemove: paths["rpm-postun"]},
	}, nil
}
