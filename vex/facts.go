package vex

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// Bounds of what Collect reads: a component file is read up to
// maxFileRead bytes (a longer one is not searched in full, so its names
// are not complete); at most maxWalk directory entries per layer are
// walked for links; at most maxImageELF files are looked at for the
// image's architecture; a kernel configuration is at most maxConfig bytes.
const (
	maxFileRead = 32 << 20
	maxWalk     = 200000
	maxImageELF = 400
	maxConfig   = 4 << 20
)

// Collector gathers facts from an unpacked image. It caches what several
// components share (links, modules, the image's architecture); it is safe
// for one goroutine.
type Collector struct {
	t       *analyzers.Target
	links   map[*extract.Layer]map[string][]string // resolved target path -> link names
	imgArch []Arch
	archSet bool
	modules *Names
	index   map[string]analyzers.File
	// Notes are bounds that were hit.
	Notes []string
}

// NewCollector reads evidence from t.
func NewCollector(t *analyzers.Target) *Collector {
	return &Collector{t: t, links: map[*extract.Layer]map[string][]string{}}
}

// Facts gathers what the image shows about one component: its files are
// the paths in the layers given (report.Component's Paths and Layers).
func (c *Collector) Facts(name, version string, layers, paths []string) Facts {
	f := Facts{Component: name, Version: version}
	files := c.files(layers, paths)
	var own []Arch
	progs := Names{Set: map[string]bool{}}
	syms := Names{Set: map[string]bool{}}
	var progSrc, symSrc []string
	for _, fl := range files {
		data, complete := c.read(fl)
		a, isELF := elfArch(fl.Path, data)
		if !isELF {
			continue
		}
		own = append(own, a)
		if name == "busybox" && f.Applets.Set == nil {
			f.Applets = c.applets(fl, data)
		}
		links := c.linksTo(fl)
		base := path.Base(fl.Path)
		progs.Set[base] = true
		for _, l := range links {
			progs.Set[l] = true
		}
		toks := tokens(data)
		for t := range toks {
			progs.Set[t] = true
		}
		progs.Complete = progs.Complete || complete
		progSrc = append(progSrc, fmt.Sprintf("%s: its name, %d links to it and the names it holds", fl.Path, len(links)))
		if strings.HasPrefix(base, "lib") && strings.Contains(base, ".so") {
			for t := range toks {
				syms.Set[t] = true
			}
			syms.Complete = syms.Complete || complete
			symSrc = append(symSrc, "the symbol names of "+fl.Path)
		}
	}
	if len(progSrc) > 0 {
		progs.Source = strings.Join(progSrc, "; ")
		f.Programs = progs
	}
	if len(symSrc) > 0 {
		syms.Source = strings.Join(symSrc, "; ")
		f.Symbols = syms
	}
	f.Arch = own
	if name == "linux_kernel" {
		f.Modules = c.kernelModules()
		f.KernelConfig, f.KernelConfigSource = c.kernelConfig(files)
		if len(f.Arch) == 0 {
			f.Arch = c.moduleArch()
		}
	}
	if len(f.Arch) == 0 {
		f.Arch = c.imageArch()
	}
	return f
}

// files resolves the component's paths in its layers (following links
// the way the device would; a file the target indexes without a layer
// root, such as a bare binary scanned as the image, by its path).
func (c *Collector) files(layers, paths []string) []analyzers.File {
	var out []analyzers.File
	seen := map[string]bool{}
	if c.index == nil {
		c.index = map[string]analyzers.File{}
		_ = c.t.Walk(context.Background(), analyzers.Selector{Match: inLayer}, func(f analyzers.File) error {
			c.index[f.Layer.Path+"\x00"+f.Path] = f
			return nil
		})
	}
	for _, ls := range layers {
		for i, p := range paths {
			if i == 32 {
				break
			}
			if f, ok := c.index[ls+"\x00"+p]; ok && (f.Layer.Root == "" || !strings.HasPrefix(f.HostPath, f.Layer.Root)) && !seen[f.HostPath] {
				seen[f.HostPath] = true
				out = append(out, f)
			}
		}
	}
	for _, ls := range layers {
		for _, l := range c.t.Layers {
			if l == nil || l.Path != ls {
				continue
			}
			for i, p := range paths {
				if i == 32 {
					break
				}
				f, ok := c.t.Resolve(l, p)
				if !ok || seen[f.HostPath] {
					continue
				}
				seen[f.HostPath] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func (c *Collector) read(f analyzers.File) ([]byte, bool) {
	b, err := c.t.ReadFile(f, maxFileRead)
	if err != nil {
		return nil, false
	}
	complete := int64(len(b)) >= f.Size
	if !complete {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: only the first %d bytes were searched", f.Path, maxFileRead))
	}
	return b, complete
}

// elfArch reads an ELF header.
func elfArch(p string, b []byte) (Arch, bool) {
	if len(b) < 20 || !bytes.Equal(b[:4], []byte(elf.ELFMAG)) {
		return Arch{}, false
	}
	a := Arch{Path: p, Class: 32}
	if b[4] == byte(elf.ELFCLASS64) {
		a.Class = 64
	}
	var m uint16
	switch b[5] {
	case byte(elf.ELFDATA2MSB):
		a.Endian = "big"
		m = binary.BigEndian.Uint16(b[18:])
	case byte(elf.ELFDATA2LSB):
		a.Endian = "little"
		m = binary.LittleEndian.Uint16(b[18:])
	default:
		return Arch{}, false
	}
	a.Machine = MachineName(elf.Machine(m))
	if a.Machine == "mips" && a.Class == 64 {
		// one ELF machine for both; the 64-bit kernels have other code
		// (compat layer)
		a.Machine = "mips64"
	}
	return a, true
}

// MachineName is debug/elf's name of an ELF machine without EM_, in lower
// case ("mips", "arm", "aarch64", "x86_64", "386").
func MachineName(m elf.Machine) string {
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// isNameByte: characters of applet, program and symbol names.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '[' || c == ']'
}

type tok struct {
	s          string
	start, end int
}

// nulTokens are the NUL-terminated strings of name characters (preceded by
// a NUL or the start), at most 64 bytes each.
func nulTokens(b []byte) []tok {
	var out []tok
	i := 0
	for i < len(b) {
		if !isNameByte(b[i]) || (i > 0 && b[i-1] != 0) {
			i++
			continue
		}
		j := i
		for j < len(b) && isNameByte(b[j]) && j-i <= 64 {
			j++
		}
		if j < len(b) && b[j] == 0 && j-i <= 64 {
			out = append(out, tok{string(b[i:j]), i, j})
		}
		i = j + 1
	}
	return out
}

func tokens(b []byte) map[string]bool {
	m := map[string]bool{}
	for _, t := range nulTokens(b) {
		m[t.s] = true
	}
	return m
}

// common applets, one of which a real applet table holds
var commonApplets = map[string]bool{"sh": true, "ash": true, "hush": true, "msh": true, "ls": true, "cat": true, "echo": true, "true": true, "test": true, "[": true, "mount": true}

// AppletTable finds BusyBox's applet name table in a binary: the longest
// run of NUL-separated names (with at most 8 bytes of NUL padding between
// them, as the compiler aligns them) in strictly ascending order, which is
// how BusyBox stores applet_names (and, before 1.15, the names of its
// applets[] array). It returns nil when no run of at least 4 names
// including a common applet is found.
func AppletTable(b []byte) []string {
	ts := nulTokens(b)
	best, bestLen := 0, 0
	for i := 0; i < len(ts); {
		if !lowerName(ts[i].s) {
			i++
			continue
		}
		j := i + 1
		for j < len(ts) {
			gap := ts[j].start - ts[j-1].end
			if gap < 1 || gap > 8 || !allZero(b[ts[j-1].end:ts[j].start]) || ts[j].s <= ts[j-1].s || !lowerName(ts[j].s) {
				break
			}
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 4 {
		return nil
	}
	var out []string
	ok := false
	for _, t := range ts[best : best+bestLen] {
		out = append(out, t.s)
		ok = ok || commonApplets[t.s]
	}
	if !ok {
		return nil
	}
	return out
}

func lowerName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return len(s) <= 32
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// applets is the applet list of a BusyBox binary: its table and the links
// to it. Without a table, only the links are known (not complete).
func (c *Collector) applets(f analyzers.File, data []byte) Names {
	n := Names{Set: map[string]bool{}}
	table := AppletTable(data)
	for _, s := range table {
		n.Set[s] = true
	}
	links := c.linksTo(f)
	for _, l := range links {
		n.Set[l] = true
	}
	switch {
	case len(table) > 0:
		n.Complete = true
		n.Source = fmt.Sprintf("applet table of %s (%d applets; %d links to it)", f.Path, len(table), len(links))
	case len(links) > 0:
		n.Source = fmt.Sprintf("%d links to %s (no applet table found)", len(links), f.Path)
	default:
		return Names{}
	}
	return n
}

// linksTo lists the names of the symbolic links in f's layer that resolve
// to f.
func (c *Collector) linksTo(f analyzers.File) []string {
	m, ok := c.links[f.Layer]
	if !ok {
		m = map[string][]string{}
		c.links[f.Layer] = m
		if f.Layer != nil && f.Layer.Root != "" {
			n := 0
			filepath.WalkDir(f.Layer.Root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				n++
				if n > maxWalk {
					c.Notes = append(c.Notes, fmt.Sprintf("layer %s: only %d entries were searched for links", f.Layer.Path, maxWalk))
					return filepath.SkipAll
				}
				if d.Type()&fs.ModeSymlink == 0 {
					return nil
				}
				rel, err := filepath.Rel(f.Layer.Root, p)
				if err != nil {
					return nil
				}
				if t, ok := c.t.Resolve(f.Layer, "/"+filepath.ToSlash(rel)); ok {
					m[t.Path] = append(m[t.Path], path.Base(filepath.ToSlash(rel)))
				}
				return nil
			})
		}
	}
	out := append([]string{}, m[f.Path]...)
	sort.Strings(out)
	return out
}

// kernelModules lists the *.ko files of the image.
func (c *Collector) kernelModules() Names {
	if c.modules != nil {
		return *c.modules
	}
	n := Names{Set: map[string]bool{}}
	_ = c.t.Walk(context.Background(), analyzers.Selector{Match: kernelModule}, func(f analyzers.File) error {
		n.Set[strings.ReplaceAll(strings.TrimSuffix(path.Base(f.Path), ".ko"), "-", "_")] = true
		return nil
	})
	n.Source = fmt.Sprintf("%d kernel modules in the image", len(n.Set))
	c.modules = &n
	return n
}

func (c *Collector) moduleArch() []Arch {
	var out []Arch
	_ = c.t.Walk(context.Background(), analyzers.Selector{Match: kernelModule}, func(f analyzers.File) error {
		b, err := c.t.ReadHead(f, 64)
		if err != nil {
			return analyzers.Skip
		}
		if a, ok := elfArch(f.Path, b); ok {
			out = []Arch{a}
			return errFound
		}
		return nil
	})
	return out
}

// errFound stops a walk that found what it looked for.
var errFound = errors.New("found")

// inLayer selects files that belong to a layer.
func inLayer(f analyzers.File) bool { return f.Layer != nil }

// kernelModule selects kernel modules (*.ko).
func kernelModule(f analyzers.File) bool { return strings.HasSuffix(f.Path, ".ko") }

// imageArch are the distinct machines of the image's ELF files (one
// example file each).
func (c *Collector) imageArch() []Arch {
	if c.archSet {
		return c.imgArch
	}
	c.archSet = true
	seen := map[string]bool{}
	n := 0
	_ = c.t.Walk(context.Background(), analyzers.Selector{MinSize: 52}, func(f analyzers.File) error {
		b, err := c.t.ReadHead(f, 64)
		if err != nil {
			return analyzers.Skip
		}
		a, ok := elfArch(f.Path, b)
		if !ok {
			return analyzers.Skip
		}
		n++
		k := a.Machine + a.Endian
		if !seen[k] {
			seen[k] = true
			c.imgArch = append(c.imgArch, a)
		}
		if n >= maxImageELF {
			return errFound
		}
		return nil
	})
	return c.imgArch
}

var ikcfg = []byte("IKCFG_ST")

// kernelConfig reads the kernel configuration: embedded in the kernel
// (CONFIG_IKCONFIG: "IKCFG_ST" then a gzip stream) or a config file in the
// image (/proc/config.gz copies, /boot/config-*, config.gz).
func (c *Collector) kernelConfig(kernel []analyzers.File) (map[string]string, string) {
	for _, f := range kernel {
		if strings.HasSuffix(f.Path, ".ko") {
			continue
		}
		data, _ := c.read(f)
		if i := bytes.Index(data, ikcfg); i >= 0 {
			if m := parseConfig(gunzip(data[i+len(ikcfg):])); m != nil {
				return m, fmt.Sprintf("the configuration embedded in %s (IKCONFIG)", f.Path)
			}
		}
	}
	var (
		cfg  map[string]string
		from string
	)
	_ = c.t.Walk(context.Background(), analyzers.Selector{Match: configFile}, func(f analyzers.File) error {
		b, err := c.t.ReadFile(f, maxConfig)
		if err != nil {
			return analyzers.Skip
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			b = gunzip(b)
		}
		if m := parseConfig(b); m != nil {
			cfg, from = m, f.Path
			return errFound
		}
		return nil
	})
	return cfg, from
}

// configFile selects kernel configuration files: config.gz (a copy of
// /proc/config.gz), /boot/config-*, /lib/modules/.../config.
func configFile(f analyzers.File) bool {
	base := path.Base(f.Path)
	return base == "config.gz" || strings.HasPrefix(f.Path, "/boot/config-") || (strings.HasPrefix(f.Path, "/lib/modules/") && base == "config")
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	zr.Multistream(false)
	out, _ := io.ReadAll(io.LimitReader(zr, maxConfig))
	return out
}

// parseConfig reads a kernel .config: CONFIG_X=y|m|value and "# CONFIG_X
// is not set" (n). nil when it holds no option.
func parseConfig(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "# CONFIG_"); ok && strings.HasSuffix(rest, " is not set") {
			m["CONFIG_"+strings.TrimSuffix(rest, " is not set")] = "n"
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
