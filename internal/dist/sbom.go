//go:build dist

package main

import (
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SPDX 2.3 JSON, the fields a release SBOM needs
// (https://spdx.github.io/spdx-spec/v2.3/).
type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name             string       `json:"name"`
	SPDXID           string       `json:"SPDXID"`
	VersionInfo      string       `json:"versionInfo"`
	Supplier         string       `json:"supplier,omitempty"`
	DownloadLocation string       `json:"downloadLocation"`
	FilesAnalyzed    bool         `json:"filesAnalyzed"`
	LicenseConcluded string       `json:"licenseConcluded"`
	LicenseDeclared  string       `json:"licenseDeclared"`
	CopyrightText    string       `json:"copyrightText"`
	Comment          string       `json:"comment,omitempty"`
	ExternalRefs     []spdxExtRef `json:"externalRefs,omitempty"`
}

type spdxExtRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var spdxIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func spdxID(kind, name string) string {
	return "SPDXRef-" + kind + "-" + strings.Trim(spdxIDUnsafe.ReplaceAllString(name, "-"), "-")
}

// goModule is a module linked into some binary of the release.
type goModule struct{ path, version, sum string }

// linkedModules reads the build info of every binary: the Go version and the
// modules linked into any of them (a module only windows uses counts too).
func linkedModules(bins []string) (goVersion string, mods []goModule, err error) {
	seen := map[string]goModule{}
	for _, bin := range bins {
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", bin, err)
		}
		goVersion = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			seen[d.Path+"@"+d.Version] = goModule{d.Path, d.Version, d.Sum}
		}
	}
	for _, m := range seen {
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].path+"@"+mods[i].version < mods[j].path+"@"+mods[j].version })
	return goVersion, mods, nil
}

// sbom writes blcheck_<version>.spdx.json: blcheck, the Go standard library it
// is built with and every module linked into a binary of the release.
func (r *release) sbom(bins []string) error {
	goVersion, mods, err := linkedModules(bins)
	if err != nil {
		return err
	}
	main := spdxPackage{
		Name: "blcheck", SPDXID: "SPDXRef-Package-blcheck", VersionInfo: r.version,
		Supplier:         "Organization: the blcheck authors",
		DownloadLocation: "git+https://github.com/blcheck/blcheck@" + r.commit,
		LicenseConcluded: "Apache-2.0", LicenseDeclared: "Apache-2.0", CopyrightText: "Copyright the blcheck authors",
		ExternalRefs: []spdxExtRef{purl("github.com/blcheck/blcheck", "v"+r.version)},
	}
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name:              "blcheck-" + r.version,
		DocumentNamespace: "https://github.com/blcheck/blcheck/releases/sbom/blcheck-" + r.version + "-" + r.commit,
		CreationInfo: spdxCreation{Created: r.mtime.Format(time.RFC3339),
			Creators: []string{"Organization: the blcheck authors", "Tool: blcheck-dist-" + r.version}},
		Packages: []spdxPackage{main, dependency("stdlib", goVersion, "", "https://go.dev/dl/")},
		Relationships: []spdxRelationship{
			{"SPDXRef-DOCUMENT", "DESCRIBES", main.SPDXID},
			{main.SPDXID, "DEPENDS_ON", spdxID("Package", "stdlib-"+goVersion)},
		},
	}
	for _, m := range mods {
		p := dependency(m.path, m.version, m.sum, "https://proxy.golang.org/"+strings.ToLower(m.path)+"/@v/"+m.version+".zip")
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRelationship{main.SPDXID, "DEPENDS_ON", p.SPDXID})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.out, "blcheck_"+r.version+".spdx.json"), append(b, '\n'), 0o644)
}

func purl(path, version string) spdxExtRef {
	return spdxExtRef{"PACKAGE-MANAGER", "purl", "pkg:golang/" + path + "@" + version}
}

// dependency is a module as SPDX names it; its go.sum hash (h1:, not an SPDX
// checksum algorithm) is kept in the comment.
func dependency(path, version, sum, download string) spdxPackage {
	p := spdxPackage{
		Name: path, SPDXID: spdxID("Package", path+"-"+version), VersionInfo: version,
		DownloadLocation: download, LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION",
		CopyrightText: "NOASSERTION", ExternalRefs: []spdxExtRef{purl(path, version)},
	}
	if sum != "" {
		p.Comment = "go.sum " + sum
	}
	return p
}
