package compliance

import (
	"bytes"
	"context"
	"errors"
	"path"
	"slices"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// Bounds on the hint search.
const (
	// HintMaxFileSize: larger files are not read for patterns (a file named
	// like a hint file is still reported).
	HintMaxFileSize = 4 << 20
	// HintReadBytes is how much of each text file is searched.
	HintReadBytes = 256 << 10
	// HintMaxTotal bounds the bytes read over the whole image.
	HintMaxTotal = 64 << 20
	// HintMaxPaths bounds the paths reported per hint.
	HintMaxPaths = 20
)

// FindHints looks through the image for what it contains towards the items
// that need evidence from the manufacturer: security.txt files, security
// contact addresses, vulnerability-disclosure and support-period texts
// (the hints of the embedded rules). It reads text files only, with bounded
// reads, and returns hint id → image paths (sorted, at most HintMaxPaths
// each; a path in a layer other than the first layer with files is
// prefixed with its layer id, "L3:/www/about.html").
func FindHints(t *analyzers.Target) map[string][]string {
	return FindHintsWith(t, rulescompliance.Default())
}

// FindHintsWith is FindHints with other rules.
func FindHintsWith(t *analyzers.Target, rules *rulescompliance.Set) map[string][]string {
	out := map[string][]string{}
	if t == nil || rules == nil || len(rules.Hints) == 0 {
		return out
	}
	type pat struct {
		hint string
		b    []byte
	}
	var pats []pat
	byName := map[string][]string{}
	for _, h := range rules.Hints {
		for _, f := range h.Files {
			n := strings.ToLower(f)
			byName[n] = append(byName[n], h.ID)
		}
		for _, p := range h.Patterns {
			pats = append(pats, pat{h.ID, []byte(strings.ToLower(p))})
		}
	}
	// the first layer with files (a path in any other is prefixed with
	// its layer id)
	firstLayer := ""
	_ = t.Walk(context.Background(), analyzers.Selector{Match: func(f analyzers.File) bool { return f.Layer != nil }}, func(f analyzers.File) error {
		firstLayer = f.Layer.ID
		return errFirstLayer
	})
	add := func(id string, f analyzers.File) {
		p := f.Path
		if f.Layer != nil && f.Layer.ID != firstLayer && f.Layer.ID != "" {
			p = f.Layer.ID + ":" + p
		}
		if len(out[id]) >= HintMaxPaths || slices.Contains(out[id], p) {
			return
		}
		out[id] = append(out[id], p)
	}
	protectionHints(t, rules, out)
	pb := make([][]byte, len(pats))
	for i, p := range pats {
		pb[i] = p.b
	}
	set := newPatternSet(pb)
	var found []bool
	var total int64
	_ = t.Walk(context.Background(), analyzers.Selector{}, func(f analyzers.File) error {
		for _, id := range byName[strings.ToLower(path.Base(f.Path))] {
			add(id, f)
		}
		if len(pats) == 0 || f.Size <= 0 || f.Size > HintMaxFileSize || total >= HintMaxTotal {
			return nil
		}
		if t.Classify(f) != analyzers.ClassText {
			return nil
		}
		n := min(int64(HintReadBytes), HintMaxTotal-total)
		b, err := t.ReadFile(f, n)
		if err != nil && !errors.Is(err, analyzers.ErrTooBig) {
			return analyzers.Skip
		}
		total += int64(len(b))
		found = set.present(bytes.ToLower(b), found)
		for i, p := range pats {
			if len(out[p.hint]) < HintMaxPaths && found[i] {
				add(p.hint, f)
			}
		}
		return nil
	})
	for id := range out {
		slices.Sort(out[id])
	}
	return out
}

// errFirstLayer stops the walk that finds the first layer with files.
var errFirstLayer = errors.New("first layer found")

// protectionHints adds the layers whose container header records a
// protection kind a hint names ("signed-container": a FIT signature node,
// a TP-Link v3 signature), as "L3 fit@0x40 > ...: <detail>".
func protectionHints(t *analyzers.Target, rules *rulescompliance.Set, out map[string][]string) {
	for _, h := range rules.Hints {
		if len(h.Protections) == 0 {
			continue
		}
		for _, l := range t.Layers {
			if l == nil || l.Protection == nil || !slices.Contains(h.Protections, l.Protection.Kind) {
				continue
			}
			if len(out[h.ID]) >= HintMaxPaths {
				break
			}
			out[h.ID] = append(out[h.ID], l.ID+" "+l.Path+": "+l.Protection.Detail)
		}
	}
}
