package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fwaudit/fwaudit/extract"
)

// limitFlags binds the extraction limits to flags.
type limitFlags struct {
	depth    int
	total    string
	file     string
	ratio    float64
	maxFiles int64
	// time and work bounds
	maxEntries   int64
	maxLayers    int
	layerTimeout time.Duration
	imageTimeout time.Duration
	// analyzerTimeout bounds one analyzer's time on an image
	analyzerTimeout time.Duration
	hashWork        int64
	// carving budget (sizes such as "16KiB")
	carveMin, carveFile, carveImage string
	// analysis: the command analyses what it unpacks (scan, diff), so
	// the analysis bounds are flags too (extract has none)
	analysis bool
}

// add registers the limit flags on cmd; analysis adds the bounds on the
// analysis (--analyzer-timeout, --max-hash-work).
func (l *limitFlags) add(cmd *cobra.Command, analysis bool) {
	l.analysis = analysis
	d := extract.DefaultLimits()
	f := cmd.Flags()
	f.IntVar(&l.depth, "max-depth", d.MaxDepth, "deepest nesting of layers to unpack")
	f.StringVar(&l.total, "max-total", "auto", `bound on bytes extracted per image ("auto" = 8x the image or 4 GiB, whichever is larger; e.g. 10GiB)`)
	f.StringVar(&l.file, "max-file-size", humanize.IBytes(uint64(d.MaxFileBytes)), "bound on one extracted file")
	f.Float64Var(&l.ratio, "max-ratio", d.MaxRatio, "bound on bytes out per byte in, per layer (decompression bombs)")
	f.Int64Var(&l.maxFiles, "max-files", d.MaxFiles, "bound on entries extracted per image")
	f.Int64Var(&l.maxEntries, "max-entries", d.MaxEntries, "bound on entries (files, nodes, partitions) one layer may yield; the layer is then partial")
	f.IntVar(&l.maxLayers, "max-layers", d.MaxLayers, "bound on layers unpacked per image")
	f.DurationVar(&l.layerTimeout, "layer-timeout", d.LayerTimeout, "bound on the time spent unpacking one layer (0 = none); the layer is then partial")
	f.DurationVar(&l.imageTimeout, "image-timeout", d.ImageTimeout, "bound on the time spent unpacking one image (0 = none); what was unpacked is analysed")
	if analysis {
		f.DurationVar(&l.analyzerTimeout, "analyzer-timeout", d.AnalyzerTimeout, "bound on the time one analyzer, and the component catalogue and SBOM stage, spends on an image (0 = none); it is then stopped and reported as failed")
		f.Int64Var(&l.hashWork, "max-hash-work", d.MaxHashWork, "bound on password-cracking work per image, in sha-crypt rounds (about 1 µs each; -1 = none)")
	}
	f.StringVar(&l.carveMin, "carve-min-size", humanize.IBytes(extract.DefaultCarveMinSize), "files of an archive or file system smaller than this are identified at offset 0 only, never carved")
	f.StringVar(&l.carveFile, "carve-file-bytes", humanize.IBytes(extract.DefaultCarveFileBytes), "carving budget per file: a larger file of an archive or file system is identified at offset 0 only (reported)")
	f.StringVar(&l.carveImage, "carve-image-bytes", humanize.IBytes(extract.DefaultCarveImageBytes), "carving budget per image: bytes of archive and file-system files carved in all; later files are identified at offset 0 only (reported)")
}

func (l *limitFlags) limits() (extract.Limits, error) {
	out := extract.DefaultLimits()
	if l.depth < 1 {
		return out, fmt.Errorf("--max-depth must be at least 1")
	}
	out.MaxDepth = l.depth
	if l.total != "auto" && l.total != "" {
		n, err := humanize.ParseBytes(l.total)
		if err != nil {
			return out, fmt.Errorf("--max-total: %v", err)
		}
		out.MaxTotalBytes = int64(n)
	}
	n, err := humanize.ParseBytes(l.file)
	if err != nil {
		return out, fmt.Errorf("--max-file-size: %v", err)
	}
	out.MaxFileBytes = int64(n)
	if l.ratio <= 0 {
		return out, fmt.Errorf("--max-ratio must be positive")
	}
	out.MaxRatio = l.ratio
	if l.maxFiles < 1 {
		return out, fmt.Errorf("--max-files must be at least 1")
	}
	out.MaxFiles = l.maxFiles
	if l.maxEntries < 1 {
		return out, fmt.Errorf("--max-entries must be at least 1")
	}
	out.MaxEntries = l.maxEntries
	if l.maxLayers < 1 {
		return out, fmt.Errorf("--max-layers must be at least 1")
	}
	out.MaxLayers = l.maxLayers
	if l.layerTimeout < 0 || l.imageTimeout < 0 {
		return out, fmt.Errorf("--layer-timeout and --image-timeout must not be negative")
	}
	out.LayerTimeout, out.ImageTimeout = l.layerTimeout, l.imageTimeout
	if l.analysis {
		if l.analyzerTimeout < 0 {
			return out, fmt.Errorf("--analyzer-timeout must not be negative")
		}
		out.AnalyzerTimeout = l.analyzerTimeout
		if l.hashWork == 0 || l.hashWork < -1 {
			return out, fmt.Errorf("--max-hash-work must be positive (or -1 for no bound)")
		}
		out.MaxHashWork = l.hashWork
	}
	for _, c := range []struct {
		flag, val string
		dst       *int64
	}{
		{"carve-min-size", l.carveMin, &out.CarveMinSize},
		{"carve-file-bytes", l.carveFile, &out.CarveFileBytes},
		{"carve-image-bytes", l.carveImage, &out.CarveImageBytes},
	} {
		if c.val == "" {
			continue
		}
		n, err := humanize.ParseBytes(c.val)
		if err != nil || n == 0 || n > 1<<62 {
			return out, fmt.Errorf("--%s: want a positive size such as 64KiB or 512MiB, not %q", c.flag, c.val)
		}
		*c.dst = int64(n)
	}
	return out, nil
}

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// progress prints to stderr only when stderr is a terminal and not --quiet.
type progress struct {
	mu      sync.Mutex
	enabled bool
	w       io.Writer
	last    int
}

func newProgress(quiet bool) *progress {
	return &progress{enabled: !quiet && term.IsTerminal(int(os.Stderr.Fd())), w: os.Stderr}
}

func (p *progress) printf(format string, a ...any) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, a...)
	if len(line) > 100 {
		line = line[:97] + "..."
	}
	pad := ""
	if p.last > len(line) {
		pad = strings.Repeat(" ", p.last-len(line))
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.last = len(line)
}

func (p *progress) done() {
	if !p.enabled || p.last == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.last))
	p.last = 0
}

func (p *progress) event(ev extract.Event) {
	state := "unpacking"
	if ev.Done {
		state = string(ev.Layer.Status)
	}
	p.printf("%s %s (%s written)", state, ev.Layer.Path, humanize.IBytes(uint64(ev.Bytes)))
}
