//go:build dist

package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// member is one file of an archive: its path inside, its bytes and its mode.
type member struct {
	name string
	data []byte
	mode fs.FileMode
}

// archiveMembers are what every archive holds, under one top directory named
// like the archive: the binaries, the three documents, THIRD_PARTY_LICENSES (the
// file notices, the licenses of the code the binaries link), man/*.1 and completions/.
func (r *release) archiveMembers(top string, bins []string, notices, docs string) ([]member, error) {
	var ms []member
	add := func(name, src string, mode fs.FileMode) error {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		ms = append(ms, member{path.Join(top, name), b, mode})
		return nil
	}
	for _, bin := range bins {
		if err := add(filepath.Base(bin), bin, 0o755); err != nil {
			return nil, err
		}
	}
	for _, doc := range []string{"README.md", "CHANGELOG.md", "LICENSE"} {
		if err := add(doc, filepath.Join(r.src, doc), 0o644); err != nil {
			return nil, err
		}
	}
	if err := add(thirdPartyName, notices, 0o644); err != nil {
		return nil, err
	}
	for _, sub := range []string{"man", "completions"} {
		entries, err := os.ReadDir(filepath.Join(docs, sub))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if err := add(sub+"/"+e.Name(), filepath.Join(docs, sub, e.Name()), 0o644); err != nil {
				return nil, err
			}
		}
	}
	return ms, nil
}

// archiveName is blcheck_<version>_<os>_<arch>, the archive's name and top directory.
func (r *release) archiveName(p platform) string {
	return fmt.Sprintf("blcheck_%s_%s", r.version, p)
}

func (r *release) archive(p platform, bins []string, notices, docs string) error {
	top := r.archiveName(p)
	ms, err := r.archiveMembers(top, bins, notices, docs)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name := top + ".tar.gz"
	if p.os == "windows" {
		name = top + ".zip"
		err = writeZip(&buf, ms, r.mtime)
	} else {
		err = writeTarGz(&buf, ms, r.mtime)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(r.out, name), buf.Bytes(), 0o644)
}

// entries are the members and the directories that hold them, each once, in
// name order (a directory "d/" sorts before what it holds).
func entries(ms []member) []member {
	seen := map[string]bool{}
	out := append([]member(nil), ms...)
	for _, m := range ms {
		for d := path.Dir(m.name); d != "." && d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			out = append(out, member{name: d + "/", mode: fs.ModeDir | 0o755})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// writeTarGz writes a ustar archive, gzip-compressed: every entry in name order,
// owned by root (0:0) and dated t; the gzip header has no name and no time.
func writeTarGz(w io.Writer, ms []member, t time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, m := range entries(ms) {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Mode: int64(m.mode.Perm()), Size: int64(len(m.data)),
			ModTime: t, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if m.mode.IsDir() {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(m.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes a zip archive the same way: every entry in name order,
// deflated (directories stored), dated t (UTC), with Unix modes.
func writeZip(w io.Writer, ms []member, t time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	for _, m := range entries(ms) {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: t.UTC()}
		if m.mode.IsDir() {
			h.Method = zip.Store
		}
		h.SetMode(m.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(m.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
