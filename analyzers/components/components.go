// Package components finds the software components firmware ships without a
// package database — BusyBox, dropbear, uClibc, OpenSSL, the Linux kernel,
// U-Boot, ... — in every layer's files, with the rules of
// rules/components: file-name versions (ld-uClibc-0.9.30.so) and version
// strings next to the product's own name ("BusyBox v1.01", "SSH-2.0-
// dropbear_2012.55", "Linux version 2.6.31 (...)") in ELF files and in the
// blobs of stream and container layers (kernels, boot loaders).
//
// Each file is read once, at most MaxRead bytes; the rules' literal anchors
// are searched with bytes.Index and a rule's expression only runs on a small
// window at each hit.
package components

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/components/match"
)

// MaxRead bounds how much of one file is searched (decompressed kernels are
// a few MiB; the banner is in the first part of the image).
const MaxRead = 32 << 20

// Component is one (name, version) found in the image, with every place it
// was found.
type Component struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Type is "binary", "os", "library" or "firmware" (boot loaders).
	Type      string     `json:"type"`
	PURL      string     `json:"purl,omitempty"`
	CPEs      []string   `json:"cpes"`
	Locations []Location `json:"locations"`
}

// Location is one file a component was found in.
type Location struct {
	// Layer is the layer's stable path (extract.Layer.Path).
	Layer string `json:"layer"`
	// Path is the path inside the image.
	Path string `json:"path"`
	// Evidence is the matched string (or the file name).
	Evidence string `json:"evidence"`
	// Offset of the evidence in the file (0 for a file-name match).
	Offset int64 `json:"offset"`
	// Rule is the id of the rule that matched.
	Rule string `json:"rule"`
}

// hit is one rule match in one file.
type hit struct {
	rule *rules.Rule
	m    rules.Match
}

// Catalog finds firmware components in every layer's files. rules nil means
// the built-in rules. The result is sorted by name then version, one row per
// (name, version), with every location listed (sorted by layer, path). A
// file that cannot be read is skipped; the error returned then lists the
// failures (the components found are still returned), as does a cancelled
// context.
//
// The catalog is built once per Target and rule set and shared by every
// caller (the eol analyzer, the scan's components stage and its SBOM); a
// catalog cut short by a cancelled context is not kept.
func Catalog(ctx context.Context, t *analyzers.Target, rs []*rules.Rule) ([]Component, error) {
	if rs == nil {
		rs = rules.Default()
	}
	key := rulesKey(rs)
	v := t.Shared("components:catalog:"+key, func() any {
		comps, err := buildCatalog(ctx, t, rs, key)
		return catalogResult{comps, err, ctx.Err() != nil}
	})
	r, _ := v.(catalogResult)
	if r.cancelled && ctx.Err() == nil {
		// an earlier caller's context ended while it was building; the
		// per-file results it got to are cached, so this is quick
		return buildCatalog(ctx, t, rs, key)
	}
	return slices.Clone(r.comps), r.err
}

type catalogResult struct {
	comps     []Component
	err       error
	cancelled bool
}

func buildCatalog(ctx context.Context, t *analyzers.Target, rs []*rules.Rule, key string) ([]Component, error) {
	var (
		mu   sync.Mutex
		errs []string
	)
	workers := min(4, max(1, runtime.GOMAXPROCS(0)))
	results, _ := analyzers.WalkParallel(ctx, t, analyzers.Selector{}, workers, func(f analyzers.File) ([]hit, error) {
		hs, err := scanFile(t, f, rs, key)
		if err != nil {
			mu.Lock()
			errs = append(errs, fmt.Sprintf("%s: %v", f.Path, err))
			mu.Unlock()
		}
		return hs, nil
	})
	comps := merge(results)
	if err := ctx.Err(); err != nil {
		return comps, err
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		if len(errs) > 10 {
			errs = append(errs[:10], fmt.Sprintf("and %d more", len(errs)-10))
		}
		return comps, fmt.Errorf("components: %s", strings.Join(errs, "; "))
	}
	return comps, nil
}

// rulesKey identifies a rule set for the per-file cache.
func rulesKey(rs []*rules.Rule) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%p,", r)
	}
	return analyzers.Fingerprint(b.String())
}

type fileResult struct {
	hits []hit
	err  error
}

// scanFile returns the rule matches in f, computed once per file and rule
// set for every caller of the Target.
func scanFile(t *analyzers.Target, f analyzers.File, rs []*rules.Rule, key string) ([]hit, error) {
	v := t.Shared("components:"+key+":"+f.HostPath, func() any {
		hs, err := scan(t, f, rs)
		return fileResult{hs, err}
	})
	r, _ := v.(fileResult)
	return r.hits, r.err
}

func scan(t *analyzers.Target, f analyzers.File, rs []*rules.Rule) ([]hit, error) {
	if f.Size <= 0 {
		return nil, nil
	}
	var out []hit
	base := path.Base(f.Path)
	blob := !f.Layer.IsFilesystem()
	var content []*rules.Rule
	for _, r := range rs {
		if !r.MatchesPath(f.Path) {
			continue
		}
		if m, ok := r.MatchFilename(base); ok {
			out = append(out, hit{r, m})
		}
		if r.HasPatterns() {
			content = append(content, r)
		}
	}
	if len(content) == 0 {
		return out, nil
	}
	class := t.Classify(f)
	var apply []*rules.Rule
	for _, r := range content {
		if r.Scans(rules.ScanELF) && class == analyzers.ClassELF ||
			r.Scans(rules.ScanBinary) && (class == analyzers.ClassELF || class == analyzers.ClassBinary) ||
			r.Scans(rules.ScanBlob) && blob && class != analyzers.ClassEmpty {
			apply = append(apply, r)
		}
	}
	if len(apply) == 0 {
		return out, nil
	}
	data, err := t.ReadFile(f, MaxRead)
	if err != nil && !errors.Is(err, analyzers.ErrTooBig) {
		return out, err
	}
	var needed []string
	for _, r := range apply {
		if r.HasUnlessNeeds() && class == analyzers.ClassELF && needed == nil {
			needed = dtNeeded(data)
		}
		if r.HasUnlessNeeds() && r.UsesLinkedCopy(base, needed) {
			continue
		}
		for _, m := range r.MatchContent(data) {
			out = append(out, hit{r, m})
		}
	}
	return out, nil
}

// dtNeeded returns the DT_NEEDED names of an ELF file (an empty, non-nil
// slice when there are none or the file does not parse).
func dtNeeded(data []byte) (out []string) {
	out = []string{}
	defer func() {
		if recover() != nil {
			out = []string{}
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return out
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return out
	}
	return append(out, libs...)
}

// merge groups hits into one component per (name, version) and one location
// per (layer, path), keeping the first evidence in rule order.
func merge(results []analyzers.Visited[[]hit]) []Component {
	type locKey struct{ layer, path string }
	type acc struct {
		c    *Component
		cpes map[string]bool
		locs map[locKey]bool
	}
	byKey := map[string]*acc{}
	for _, r := range results {
		f := r.File
		for _, h := range r.Value {
			k := h.rule.Name + "\x00" + h.m.Version
			a := byKey[k]
			if a == nil {
				a = &acc{c: &Component{Name: h.rule.Name, Version: h.m.Version, Type: h.rule.Type, PURL: h.rule.PURLFor(h.m), CPEs: []string{}},
					cpes: map[string]bool{}, locs: map[locKey]bool{}}
				byKey[k] = a
			}
			for _, c := range h.rule.CPEsFor(h.m) {
				if !a.cpes[c] {
					a.cpes[c] = true
					a.c.CPEs = append(a.c.CPEs, c)
				}
			}
			lk := locKey{f.Layer.Path, f.Path}
			if a.locs[lk] {
				continue
			}
			a.locs[lk] = true
			a.c.Locations = append(a.c.Locations, Location{Layer: f.Layer.Path, Path: f.Path, Evidence: h.m.Evidence, Offset: h.m.Offset, Rule: h.rule.ID})
		}
	}
	out := make([]Component, 0, len(byKey))
	for _, a := range byKey {
		sort.Strings(a.c.CPEs)
		sort.SliceStable(a.c.Locations, func(i, j int) bool {
			x, y := a.c.Locations[i], a.c.Locations[j]
			if x.Layer != y.Layer {
				return x.Layer < y.Layer
			}
			return x.Path < y.Path
		})
		out = append(out, *a.c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return versionLess(out[i].Version, out[j].Version)
	})
	return out
}

// versionLess orders versions field by field, numbers numerically
// ("1.9" < "1.10", "0.9.7f" < "0.9.30"), then by any suffix.
func versionLess(a, b string) bool {
	fa, fb := strings.FieldsFunc(a, isSep), strings.FieldsFunc(b, isSep)
	for i := 0; i < len(fa) && i < len(fb); i++ {
		na, sa := splitNum(fa[i])
		nb, sb := splitNum(fb[i])
		if na != nb {
			return na < nb
		}
		if sa != sb {
			return sa < sb
		}
	}
	if len(fa) != len(fb) {
		return len(fa) < len(fb)
	}
	return a < b
}

// splitNum splits "7f" into 7 and "f"; a field without digits is -1.
func splitNum(s string) (int, string) {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return -1, s
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:]
}

func isSep(r rune) bool { return r == '.' || r == '-' || r == '_' }

// RulesUser is an analyzer that runs the component catalogue with its own
// component rules (the eol analyzer, with a rule folder's components.yaml):
// the scan's components stage asks it for them (RulesOf), so that the
// catalogue is built once per Target, with the same rules, for both.
type RulesUser interface {
	ComponentRules() []*rules.Rule
}

// RulesOf returns the component rules of the first analyzer in list that
// has its own (RulesUser); nil (the embedded rules) if none has.
func RulesOf(list []analyzers.Analyzer) []*rules.Rule {
	for _, a := range list {
		if u, ok := a.(RulesUser); ok {
			if rs := u.ComponentRules(); rs != nil {
				return rs
			}
		}
	}
	return nil
}
