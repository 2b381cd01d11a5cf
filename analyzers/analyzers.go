// Package analyzers holds the analyzer interface, the Target every analyzer
// reads, the Finding they produce, and Run, which runs them in parallel.
// Each analyzer is its own sub-package.
package analyzers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Analyzer inspects the unpacked image and reports findings. Analyzers only
// read; they never write.
type Analyzer interface {
	Name() string
	Analyze(ctx context.Context, t *Target) ([]Finding, error)
}

// Scoped is implemented by analyzers that say what content they examine
// ("account databases"): the report names it when they found none.
type Scoped interface {
	Examines() string
}

// Severity of a finding.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities: critical 4 ... info 0; unknown -1.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// ParseSeverity parses a severity name.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if v.Rank() < 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
	}
	return v, nil
}

// Finding is one piece of evidence a person can check.
type Finding struct {
	// ID is stable across runs and machines (see SetID).
	ID       string   `json:"id"`
	Rule     string   `json:"rule"`
	Category string   `json:"category"`
	Severity Severity `json:"severity"`
	// Layer is the layer's stable path (format chain), LayerID its short id.
	Layer   string `json:"layer"`
	LayerID string `json:"layer_id,omitempty"`
	// Path is the path inside the image ("/etc/shadow").
	Path string `json:"path,omitempty"`
	// Line (1-based) or Offset (bytes) inside the file.
	Line   int    `json:"line,omitempty"`
	Offset *int64 `json:"offset,omitempty"`
	// Evidence is a redacted excerpt; secrets never appear in clear except
	// well-known vendor defaults.
	Evidence string `json:"evidence"`
	Message  string `json:"message"`
	// Fingerprint is a short keyed hash (HMAC-SHA-256, see Fingerprint) of
	// the secret or item, so the same one can be matched across images
	// scanned with the same key.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Guidelines are the Code of Practice guideline numbers it bears on.
	Guidelines []int `json:"cop"`
	// Analyzer that produced it.
	Analyzer string `json:"analyzer"`
}

// SetID computes the stable ID from rule, layer path, path, line/offset and
// fingerprint.
func (f *Finding) SetID() {
	h := sha256.New()
	off := ""
	if f.Offset != nil {
		off = strconv.FormatInt(*f.Offset, 10)
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s", f.Rule, f.Layer, f.Path, f.Line, off, f.Fingerprint)
	f.ID = "FW-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:12])
}

// PublicFingerprintKey is the fingerprint key of a scan given no key of its
// own. It is public: anyone with fwaudit can recompute such a fingerprint,
// so a report made with it can confirm a guessed secret. Give a key of
// your own (FWAUDIT_FINGERPRINT_KEY, scan --fingerprint-key-file, or a
// fleet store's key) to make fingerprints meaningless outside your
// organisation.
const PublicFingerprintKey = "fwaudit public fingerprint key v1"

// MinFingerprintKey is the shortest key SetFingerprintKey accepts.
const MinFingerprintKey = 16

var fingerprintKey atomic.Pointer[[]byte]

// SetFingerprintKey sets the key every later Fingerprint uses in this
// process; nil goes back to PublicFingerprintKey. A key shorter than
// MinFingerprintKey bytes is refused.
func SetFingerprintKey(key []byte) error {
	if key == nil {
		fingerprintKey.Store(nil)
		return nil
	}
	if len(key) < MinFingerprintKey {
		return fmt.Errorf("fingerprint key: %d bytes, want at least %d", len(key), MinFingerprintKey)
	}
	k := append([]byte(nil), key...)
	fingerprintKey.Store(&k)
	return nil
}

// FingerprintKeyed reports whether a key of the user's own is in use.
func FingerprintKeyed() bool { return fingerprintKey.Load() != nil }

// Fingerprint returns the short keyed hash used to recognise a secret: the
// first 16 hex digits of HMAC-SHA-256(key, secret). Equal secrets have
// equal fingerprints under one key; without the key a fingerprint confirms
// nothing.
func Fingerprint(secret string) string {
	key := []byte(PublicFingerprintKey)
	if k := fingerprintKey.Load(); k != nil {
		key = *k
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// Redact renders a secret as its first characters, its length and its
// keyed fingerprint: enough to recognise it, not enough to use it.
func Redact(secret string) string {
	show := 2
	if len(secret) <= 4 {
		show = 0
	} else if len(secret) >= 16 {
		show = 4
	}
	return fmt.Sprintf("%s… (%d chars, fp:%s)", secret[:show], len(secret), Fingerprint(secret))
}

// Int64 returns a pointer, for Finding.Offset.
func Int64(v int64) *int64 { return &v }

// ErrTimeBound is the error of an analyzer stopped at its time bound.
var ErrTimeBound = errors.New("analyzer time bound reached")

// Failure records an analyzer that failed; it is reported, not fatal.
type Failure struct {
	Analyzer string `json:"analyzer"`
	Error    string `json:"error"`
}

// Timing records how long one analyzer took.
type Timing struct {
	Analyzer string        `json:"analyzer"`
	Duration time.Duration `json:"duration_ns"`
	Findings int           `json:"findings"`
}

// Outcome is what Run returns.
type Outcome struct {
	Findings []Finding
	Failures []Failure
	Timings  []Timing
	// Ran lists analyzers that completed without error.
	Ran []string
	// Coverage says, per analyzer that ran, what content it examined.
	Coverage map[string]Coverage
}

// Run runs every analyzer over t with at most jobs at once, sets finding IDs
// and returns the findings sorted. A failing (or panicking) analyzer is
// recorded in Failures; the others still run.
func Run(ctx context.Context, t *Target, list []Analyzer, jobs int) Outcome {
	return RunWithin(ctx, t, list, jobs, 0)
}

// RunWithin is Run with a bound on each analyzer's time (0: none): an
// analyzer still running when it is reached is cancelled, and recorded in
// Failures (ErrTimeBound) with nothing it found.
func RunWithin(ctx context.Context, t *Target, list []Analyzer, jobs int, timeout time.Duration) Outcome {
	if jobs < 1 {
		jobs = 1
	}
	var mu sync.Mutex
	var out Outcome
	// each analyzer's findings are kept in its slot and joined in list
	// order, so equal findings of two analyzers come out the same way
	// whatever the scheduling
	found := make([][]Finding, len(list))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i, a := range list {
		g.Go(func() error {
			start := time.Now()
			actx, cancel := gctx, context.CancelFunc(func() {})
			if timeout > 0 {
				actx, cancel = context.WithTimeout(gctx, timeout)
			}
			fs, err := safeAnalyze(actx, a, t)
			if actx.Err() != nil && gctx.Err() == nil {
				// stopped at the bound: what it found so far is not the
				// whole of what it would find
				fs, err = nil, fmt.Errorf("%w (%s): stopped after %s", ErrTimeBound, timeout, time.Since(start).Round(time.Millisecond))
			}
			cancel()
			d := time.Since(start)
			for i := range fs {
				fs[i].Analyzer = a.Name()
				if fs[i].LayerID == "" && fs[i].Layer != "" {
					fs[i].LayerID = t.layerID(fs[i].Layer)
				}
				if fs[i].Guidelines == nil {
					fs[i].Guidelines = []int{}
				}
				sort.Ints(fs[i].Guidelines)
				fs[i].SetID()
			}
			mu.Lock()
			defer mu.Unlock()
			out.Timings = append(out.Timings, Timing{Analyzer: a.Name(), Duration: d, Findings: len(fs)})
			if err != nil {
				out.Failures = append(out.Failures, Failure{Analyzer: a.Name(), Error: err.Error()})
			} else {
				out.Ran = append(out.Ran, a.Name())
			}
			found[i] = fs
			return nil
		})
	}
	g.Wait()
	for _, fs := range found {
		out.Findings = append(out.Findings, fs...)
	}
	SortFindings(out.Findings)
	out.Findings = dedupe(out.Findings)
	sort.Slice(out.Failures, func(i, j int) bool { return out.Failures[i].Analyzer < out.Failures[j].Analyzer })
	sort.Slice(out.Timings, func(i, j int) bool { return out.Timings[i].Analyzer < out.Timings[j].Analyzer })
	sort.Strings(out.Ran)
	out.Coverage = map[string]Coverage{}
	for _, a := range list {
		cv := t.CoverageOf(a.Name())
		if s, ok := a.(Scoped); ok && cv.What == "" {
			cv.What = s.Examines()
		}
		out.Coverage[a.Name()] = cv
	}
	return out
}

func dedupe(fs []Finding) []Finding {
	out := fs[:0]
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.ID] {
			continue
		}
		seen[f.ID] = true
		out = append(out, f)
	}
	return out
}

// SortFindings orders findings by severity (worst first), then rule, layer,
// path, line, offset and ID, so output is deterministic.
func SortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Layer != b.Layer {
			return a.Layer < b.Layer
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		ao, bo := int64(-1), int64(-1)
		if a.Offset != nil {
			ao = *a.Offset
		}
		if b.Offset != nil {
			bo = *b.Offset
		}
		if ao != bo {
			return ao < bo
		}
		return a.ID < b.ID
	})
}

func safeAnalyze(ctx context.Context, a Analyzer, t *Target) (fs []Finding, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("analyzer %s panicked: %v", a.Name(), p)
		}
	}()
	return a.Analyze(ctx, t)
}
