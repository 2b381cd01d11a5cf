package credentials

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	credrules "github.com/fwaudit/fwaudit/analyzers/credentials/detect"
)

// ProgramReadBound is the most the analyzer reads of one program.
const ProgramReadBound = 16 << 20

// maxProgramStrings bounds the strings taken from one program.
const maxProgramStrings = 200_000

// progString is one NUL-terminated printable string of a program's
// read-only data, with its offset in the file.
type progString struct {
	s   string
	off int64
}

// programStrings returns the printable strings (at least 4 bytes, ending
// in NUL) of the ELF's read-only data sections in file order, and whether
// the program imports one of the compare functions (true for a static
// program, which imports nothing). ok is false when data is not an ELF.
func programStrings(data []byte, compare []string) (out []progString, imports, ok bool) {
	defer func() {
		if recover() != nil {
			out, imports, ok = nil, false, false
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, false, false
	}
	syms, err := f.ImportedSymbols()
	imports = err != nil || len(syms) == 0
	for _, s := range syms {
		for _, c := range compare {
			if s.Name == c {
				imports = true
			}
		}
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_PROGBITS || sec.Flags&elf.SHF_ALLOC == 0 || sec.Flags&(elf.SHF_WRITE|elf.SHF_EXECINSTR) != 0 {
			continue
		}
		if !strings.HasPrefix(sec.Name, ".rodata") && sec.Name != ".data.rel.ro" && sec.Name != ".rdata" {
			continue
		}
		start, end := int64(sec.Offset), int64(sec.Offset)+int64(sec.Size)
		if start < 0 || end > int64(len(data)) || start > end {
			continue
		}
		b := data[start:end]
		for i := 0; i < len(b) && len(out) < maxProgramStrings; {
			j := i
			for j < len(b) && b[j] >= 0x20 && b[j] < 0x7f {
				j++
			}
			if j < len(b) && b[j] == 0 && j-i >= 4 {
				out = append(out, progString{string(b[i:j]), start + int64(i)})
			}
			i = j + 1
		}
	}
	return out, imports, true
}

// programMatch is a literal password found next to a password string.
type programMatch struct {
	Secret, User, Context string
	Index                 int // in the strings
}

// matchProgram applies one detector to a program's strings.
func matchProgram(r *credrules.ProgramRule, strs []string) []programMatch {
	var out []programMatch
	seen := map[int]bool{}
	for i, s := range strs {
		if !r.IsContext(s) {
			continue
		}
		lo, hi := max(0, i-r.Window), min(len(strs)-1, i+r.Window)
		user := ""
		for d := 1; d <= r.Window && user == ""; d++ {
			for _, j := range []int{i - d, i + d} {
				if j >= lo && j <= hi && r.IsUser(strs[j]) {
					user = strs[j]
					break
				}
			}
		}
		for j := lo; j <= hi; j++ {
			if j == i || seen[j] || !r.IsCandidate(strs[j]) {
				continue
			}
			seen[j] = true
			out = append(out, programMatch{Secret: strs[j], User: user, Context: s, Index: j})
		}
	}
	return out
}

// programs runs the program detectors over the ELF files they select.
func (a *analyzer) programs(ctx context.Context, t *analyzers.Target) []analyzers.Finding {
	var out []analyzers.Finding
	selected := func(f analyzers.File) []*credrules.ProgramRule {
		var sel []*credrules.ProgramRule
		for _, r := range a.opt.Programs {
			if r.MatchesPath(f.Path) {
				sel = append(sel, r)
			}
		}
		return sel
	}
	walk := analyzers.Selector{
		FileSystems: true, MinSize: 1, MaxSize: ProgramReadBound,
		Match:   func(f analyzers.File) bool { return len(selected(f)) > 0 },
		Classes: []analyzers.Class{analyzers.ClassELF},
	}
	// a cancelled walk returns the findings so far; Analyze reports ctx
	t.Walk(ctx, walk, func(f analyzers.File) error {
		data, err := t.ReadFile(f, ProgramReadBound)
		if err != nil && !errors.Is(err, analyzers.ErrTooBig) {
			return analyzers.Skip
		}
		for _, r := range selected(f) {
			ps, imports, ok := programStrings(data, r.Compare)
			if !ok || !imports {
				continue
			}
			strs := make([]string, len(ps))
			for i, p := range ps {
				strs[i] = p.s
			}
			for _, m := range matchProgram(r, strs) {
				off := ps[m.Index].off
				out = append(out, a.programFinding(r, f, m, off))
			}
		}
		return nil
	})
	return out
}

func (a *analyzer) programFinding(r *credrules.ProgramRule, f analyzers.File, m programMatch, off int64) analyzers.Finding {
	forUser := ""
	if m.User != "" {
		forUser = fmt.Sprintf(" for user %q", m.User)
	}
	sev := r.Severity
	shown := analyzers.Redact(m.Secret)
	what := fmt.Sprintf("a literal of %d characters (redacted)", len(m.Secret))
	if n, ok := a.rank[m.Secret]; ok && n <= a.opt.DefaultTop {
		sev = r.DefaultSeverity
		shown = fmt.Sprintf("%q", m.Secret)
		what = fmt.Sprintf("%q, rank %d in the default-password list", m.Secret, n)
	}
	return analyzers.Finding{
		Rule:     r.Rule,
		Category: credrules.Category,
		Severity: analyzers.Severity(sev),
		Layer:    f.Layer.Path,
		LayerID:  f.Layer.ID,
		Path:     f.Path,
		Offset:   analyzers.Int64(off),
		Evidence: fmt.Sprintf("literal %s%s at offset 0x%x, next to %q", shown, forUser, off, m.Context),
		Message: fmt.Sprintf("%s in %s (offset 0x%x, layer %s): the program compares the password%s with %s. %s %s",
			r.Title, f.Path, off, f.Layer.Path, forUser, what, r.Description, r.Fix),
		Fingerprint: analyzers.Fingerprint(m.Secret),
		Guidelines:  append([]int(nil), r.Guidelines...),
	}
}

// ProgramSecret is a literal password a program detector found, with the
// account next to it ("" if none).
type ProgramSecret struct{ Secret, User string }

// ProgramSecrets applies a program detector to a program's read-only
// strings, in order, as Analyze does once it has read them from the ELF
// file (TestProgramCGI covers that reading on a real program).
// rules/validate runs the examples of programs.yaml through it.
func ProgramSecrets(r *credrules.ProgramRule, strs []string) []ProgramSecret {
	var out []ProgramSecret
	for _, m := range matchProgram(r, strs) {
		out = append(out, ProgramSecret{m.Secret, m.User})
	}
	return out
}
