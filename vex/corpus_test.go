package vex

import (
	"bytes"
	"context"
	"debug/elf"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	rules "github.com/fwaudit/fwaudit/rules/vex"
)

// TestCorpusNoContradiction judges every rule of every component of every
// image in ../shared/firmware (real/ and formats/) and checks each
// decision against the image's own evidence, read independently of the
// collector: a CVE left affected because of an applet, a program or an
// architecture must have that applet/program/machine in the image, and one
// judged not_affected must not (no link of that name to the binary, no ELF
// file of that machine).
func TestCorpusNoContradiction(t *testing.T) {
	root := testcorpus.Shared(t, "real")
	var images []string
	for _, dir := range []string{root, filepath.Join(filepath.Dir(root), "formats")} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				images = append(images, filepath.Join(dir, e.Name()))
			}
		}
	}
	rs := DefaultRules()
	ruleSet := rules.Default()
	decided := map[string]int{}
	for _, img := range images {
		t.Run(filepath.Base(img), func(t *testing.T) {
			res, err := extract.Extract(context.Background(), img, t.TempDir(), extract.Options{})
			if err != nil {
				t.Skipf("not unpacked: %v", err)
			}
			tg := analyzers.NewTarget(res.Layers)
			if len(tg.Files()) == 0 && len(res.Layers) > 0 {
				tg.AddImage(res.Layers[0], img)
			}
			comps, _ := components.Catalog(context.Background(), tg, nil)
			col := NewCollector(tg)
			for _, c := range comps {
				var layers, paths []string
				for _, l := range c.Locations {
					layers = append(layers, l.Layer)
					paths = append(paths, l.Path)
				}
				f := col.Facts(c.Name, c.Version, layers, paths)
				files := col.files(layers, paths)
				for _, r := range ruleSet.Rules {
					if !contains(r.Components, c.Name) {
						continue
					}
					for _, cve := range r.CVEs {
						a := rs.Decide(cve, f)
						decided[a.State]++
						if testing.Verbose() {
							t.Logf("%s %s %s: %s (%s)", c.Name, c.Version, cve, a.State, strings.Join(a.Evidence, "; "))
						}
						check(t, c.Name+" "+c.Version+" "+cve, r, a, files, tg)
					}
				}
			}
		})
	}
	t.Logf("decisions over the corpus: %v", decided)
	if decided[NotAffected] == 0 || decided[Affected] == 0 {
		t.Errorf("the corpus gave no not_affected or no affected decision: %v", decided)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// check compares one decision with evidence read here, independently.
func check(t *testing.T, what string, r rules.Rule, a Analysis, files []analyzers.File, tg *analyzers.Target) {
	t.Helper()
	n := r.Needs
	names := append(append([]string{}, n.Applets...), n.Programs...)
	if len(names) > 0 {
		linked := linkNames(files)
		inBinary := false
		for _, f := range files {
			b, err := os.ReadFile(f.HostPath)
			if err != nil {
				continue
			}
			for _, s := range names {
				inBinary = inBinary || bytes.Contains(b, []byte("\x00"+s+"\x00"))
			}
		}
		anyLinked := false
		for _, s := range names {
			anyLinked = anyLinked || linked[s]
		}
		switch a.State {
		case Affected:
			if !inBinary && !anyLinked {
				t.Errorf("%s: affected, but none of %v is in the binary or linked to it", what, names)
			}
		case NotAffected:
			if anyLinked && len(n.Arch) == 0 && n.Introduced == "" {
				t.Errorf("%s: not_affected, but one of %v is a link to the binary", what, names)
			}
		}
	}
	if len(n.Arch) > 0 {
		var machines []string
		for _, f := range files {
			ef, err := elf.Open(f.HostPath)
			if err != nil {
				continue
			}
			machines = append(machines, MachineName(ef.Machine))
			ef.Close()
		}
		match := false
		for _, m := range machines {
			match = match || contains(n.Arch, m)
		}
		switch {
		case a.State == Affected && len(machines) > 0 && !match:
			t.Errorf("%s: affected on %v, but the code is %v only", what, machines, n.Arch)
		case a.State == NotAffected && match:
			t.Errorf("%s: not_affected, but a file is %v", what, machines)
		}
	}
	if a.State == NotAffected && (a.Justification != CodeNotPresent || len(a.Evidence) == 0) {
		t.Errorf("%s: not_affected without justification or evidence: %+v", what, a)
	}
}

// linkNames are the base names of the symlinks in the files' layers whose
// target's base name is one of the files' base names.
func linkNames(files []analyzers.File) map[string]bool {
	out := map[string]bool{}
	for _, f := range files {
		if f.Layer == nil || f.Layer.Root == "" {
			continue
		}
		base := path.Base(f.Path)
		filepath.WalkDir(f.Layer.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			if target, err := os.Readlink(p); err == nil && path.Base(strings.TrimRight(target, "/")) == base {
				out[filepath.Base(p)] = true
			}
			return nil
		})
	}
	return out
}
