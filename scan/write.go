package scan

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"

	"github.com/fwaudit/fwaudit/report"
)

// ReportWriter writes one report file.
type ReportWriter struct {
	File  string
	Write func(io.Writer, *report.Report) error
}

// Writers are the report formats WriteOutputs can write, by output name.
// The output "sbom" writes the scan's SBOM documents (sbom.cdx.json,
// sbom.spdx.json, vulns.cdx.json and any other document the SBOM stage
// made).
var Writers = map[string]ReportWriter{
	"json":     {"report.json", report.WriteJSON},
	"markdown": {"report.md", report.WriteMarkdown},
	"html":     {"report.html", report.WriteHTML},
	"sarif":    {"findings.sarif", report.WriteSARIF},
}

// DefaultOutputs are what a scan writes into OutDir unless told otherwise.
var DefaultOutputs = []string{"json", "markdown", "html", "sarif", "sbom"}

// CheckOutputs reports an output name this build cannot write.
func CheckOutputs(outs []string) error {
	for _, o := range outs {
		if _, ok := Writers[o]; !ok && o != "sbom" {
			names := []string{"sbom"}
			for n := range Writers {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("output %q is not available (want one of %v)", o, names)
		}
	}
	return nil
}

// Render encodes the chosen outputs of a finished scan: file name →
// content.
func Render(rep *report.Report, sboms map[string][]byte, outputs []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, o := range outputs {
		if o == "sbom" {
			for name, b := range sboms {
				files[name] = b
			}
			continue
		}
		w, ok := Writers[o]
		if !ok {
			return nil, CheckOutputs([]string{o})
		}
		var buf bytes.Buffer
		if err := w.Write(&buf, rep); err != nil {
			return nil, fmt.Errorf("%s: %w", w.File, err)
		}
		files[w.File] = buf.Bytes()
	}
	return files, nil
}

// WriteFiles writes files into dir/sub (sub may be empty) without ever
// following a link that already stands there: dir is created if needed and
// opened as a root, sub is created inside it and may not lead out of it,
// and each file is written to a fresh temporary name and renamed over the
// old entry, so a symlink planted at report.md is replaced, not written
// through. It returns the names written, sorted.
func WriteFiles(dir, sub string, files map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if sub != "" {
		if err := root.Mkdir(sub, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("output folder %s: %w", sub, err)
		}
		inner, err := root.OpenRoot(sub)
		if err != nil {
			return nil, fmt.Errorf("output folder %s: %w", sub, err)
		}
		defer inner.Close()
		root = inner
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := replaceFile(root, name, files[name]); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// replaceFile writes b to name inside root atomically: a new file under a
// random temporary name (O_EXCL, so nothing standing there is followed),
// then a rename over name.
func replaceFile(root *os.Root, name string, b []byte) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := "." + name + ".tmp-" + hex.EncodeToString(rnd[:])
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Rename(tmp, name)
	}
	if werr != nil {
		root.Remove(tmp)
		return fmt.Errorf("%s: %w", name, werr)
	}
	return nil
}
