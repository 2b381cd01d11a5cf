package scan

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/cpe"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/binary"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"

	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"

	// syft's RPM database cataloger needs an SQL driver named "sqlite";
	// syft's own command registers this one the same way. (grype pulls in
	// the same package, so adding grype later does not register it twice.)
	_ "github.com/glebarez/go-sqlite"
)

// BuildSBOM runs syft over every unpacked file-system layer (a directory
// source whose Base is the layer root, so absolute symlinks stay inside it),
// merges the packages into one SBOM describing the image, and encodes it as
// CycloneDX and SPDX JSON. With withSyft false only the firmware
// components are in it. The merged SBOM is returned for matching.
func BuildSBOM(ctx context.Context, image string, res *extract.Result, fw []components.Component, withSyft bool) ([]report.Component, map[string][]byte, *sbom.SBOM, error) {
	merged := sbom.SBOM{
		Artifacts: sbom.Artifacts{Packages: pkg.NewCollection()},
		Source: source.Description{
			ID:      "sha256:" + res.SHA256,
			Name:    filepath.Base(image),
			Version: "sha256:" + res.SHA256,
			Metadata: source.FileMetadata{
				Path: filepath.Base(image),
			},
		},
		Descriptor: sbom.Descriptor{Name: "fwaudit", Version: Version},
	}
	byKey := map[string]*report.Component{}
	// firmware components first: they carry CPEs with the right vendor and
	// the evidence; syft rows for the same name and version are merged in.
	fwNames := map[string]bool{}
	for _, c := range firmwareComponents(fw) {
		c := c
		byKey[c.Name+"\x00"+c.Version] = &c
		fwNames[c.Name+"\x00"+c.Version] = true
	}
	for _, c := range fw {
		merged.Artifacts.Packages.Add(firmwarePackage(c))
	}
	var errs []string
	var layers []*extract.Layer
	var work []syftWork
	for _, l := range res.Layers {
		if !withSyft || l.Root == "" || !l.IsFilesystem() || l.Files == 0 {
			continue
		}
		if w := syftWorkIn(l.Root); w != syftNothing {
			layers = append(layers, l)
			work = append(work, w)
		}
	}
	for i, r := range catalogLayers(ctx, layers, work) {
		l := layers[i]
		if r.err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", l.Path, r.err))
			continue
		}
		s := r.sbom
		for _, p := range s.Artifacts.Packages.Sorted() {
			key := p.Name + "\x00" + p.Version
			if fwNames[key] {
				// the same component as a firmware classifier found: keep
				// one row (syft's binary classifier overlaps ours)
				c := byKey[key]
				for _, loc := range p.Locations.ToSlice() {
					c.Paths = appendUnique(c.Paths, loc.RealPath)
				}
				c.Layers = appendUnique(c.Layers, l.Path)
				continue
			}
			merged.Artifacts.Packages.Add(p)
			c, ok := byKey[key]
			if !ok {
				c = &report.Component{Name: p.Name, Version: p.Version, Type: string(p.Type), PURL: p.PURL, FoundBy: p.FoundBy, CPEs: []string{}, Paths: []string{}, Layers: []string{}}
				byKey[key] = c
			}
			for _, cp := range p.CPEs {
				c.CPEs = appendUnique(c.CPEs, cp.Attributes.BindToFmtString())
			}
			for _, loc := range p.Locations.ToSlice() {
				c.Paths = appendUnique(c.Paths, loc.RealPath)
			}
			c.Layers = appendUnique(c.Layers, l.Path)
		}
		merged.Relationships = append(merged.Relationships, s.Relationships...)
		if merged.Artifacts.LinuxDistribution == nil {
			merged.Artifacts.LinuxDistribution = s.Artifacts.LinuxDistribution
		}
	}
	var comps []report.Component
	for _, c := range byKey {
		sort.Strings(c.CPEs)
		sort.Strings(c.Paths)
		sort.Strings(c.Layers)
		comps = append(comps, *c)
	}
	sort.Slice(comps, func(i, j int) bool {
		if comps[i].Name != comps[j].Name {
			return comps[i].Name < comps[j].Name
		}
		if comps[i].Version != comps[j].Version {
			return comps[i].Version < comps[j].Version
		}
		return comps[i].Type < comps[j].Type
	})
	docs := map[string][]byte{}
	g := newGraph(subjectOf(image, res), res.Layers, comps)
	b1, err := encodeCycloneDX(merged, g)
	if err != nil {
		return comps, docs, &merged, err
	}
	b2, err := encodeSPDX(merged, g)
	if err != nil {
		return comps, docs, &merged, err
	}
	docs["sbom.cdx.json"] = b1
	docs["sbom.spdx.json"] = b2
	if len(errs) > 0 {
		return comps, docs, &merged, fmt.Errorf("syft: %s", strings.Join(errs, "; "))
	}
	return comps, docs, &merged, nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// FoundByFirmware names fwaudit's firmware classifiers in SBOMs and reports.
const FoundByFirmware = "fwaudit-firmware"

// firmwareComponents turns classifier results into report rows.
func firmwareComponents(fw []components.Component) []report.Component {
	var out []report.Component
	for _, c := range fw {
		rc := report.Component{Name: c.Name, Version: c.Version, Type: c.Type, PURL: c.PURL, FoundBy: FoundByFirmware,
			CPEs: append([]string{}, c.CPEs...), Paths: []string{}, Layers: []string{}}
		for _, l := range c.Locations {
			rc.Paths = appendUnique(rc.Paths, l.Path)
			rc.Layers = appendUnique(rc.Layers, l.Layer)
			rc.Evidence = appendUnique(rc.Evidence, l.Path+": "+l.Evidence)
		}
		sort.Strings(rc.Paths)
		sort.Strings(rc.Layers)
		out = append(out, rc)
	}
	return out
}

// firmwarePackage turns a classifier result into a syft package, so the
// SBOM encoders write it like any other.
func firmwarePackage(c components.Component) pkg.Package {
	p := pkg.Package{
		Name:    c.Name,
		Version: c.Version,
		Type:    pkg.BinaryPkg,
		PURL:    c.PURL,
		FoundBy: FoundByFirmware,
	}
	var locs []file.Location
	for _, l := range c.Locations {
		locs = append(locs, file.NewLocation(l.Path))
	}
	p.Locations = file.NewLocationSet(locs...)
	for _, s := range c.CPEs {
		if v, err := cpe.New(s, cpe.DeclaredSource); err == nil {
			p.CPEs = append(p.CPEs, v)
		}
	}
	p.SetID()
	return p
}

// syftCatalogers are the syft catalogers a firmware file system is worth
// running: the package databases (dpkg's also reads OpenWrt's opkg status
// and info/*.control files; apk; rpm), the Linux kernel and module
// cataloger, the ELF package notes some distributions stamp binaries with,
// and syft's binary classifier (cheap: it only opens files whose names it
// knows, and it knows programs fwaudit's firmware classifiers do not, such
// as interpreters and openssl builds). Language ecosystems (npm, pip, jars,
// ...) are left out: they are not found on embedded devices and their
// catalogers cost a walk each.
var syftCatalogers = []string{
	"dpkg-db-cataloger",
	"apk-db-cataloger",
	"rpm-db-cataloger",
	"linux-kernel-cataloger",
	"elf-binary-package-cataloger",
	"binary-classifier-cataloger",
}

// SyftConfig is the syft configuration fwaudit catalogs a layer with:
// syftCatalogers only, no file cataloging (digests and metadata of every
// file: the report lists paths, and hashing the tree costs more than the
// cataloging), no unknowns (every stripped executable without a package
// would be one), CPEs generated for matching.
func SyftConfig() *syft.CreateSBOMConfig {
	return syft.DefaultCreateSBOMConfig().
		WithTool("fwaudit", Version).
		WithCatalogerSelection(cataloging.NewSelectionRequest().WithDefaults(syftCatalogers...)).
		WithPackagesConfig(pkgcataloging.DefaultConfig().WithBinaryConfig(binary.DefaultClassifierCatalogerConfig())).
		WithoutFiles().
		WithUnknownsConfig(cataloging.UnknownsConfig{}).
		WithParallelism(2)
}

// syftLayerJobs is how many layers syft catalogs at once. Each catalog is
// mostly file I/O and waiting, and layers are independent (their own
// source, resolver and result), so two run side by side.
const syftLayerJobs = 2

type layerSBOM struct {
	sbom *sbom.SBOM
	err  error
}

// catalogLayers runs syft over each layer (the work syftWorkIn found for
// it), syftLayerJobs at a time, and returns the results in layer order.
func catalogLayers(ctx context.Context, layers []*extract.Layer, work []syftWork) []layerSBOM {
	out := make([]layerSBOM, len(layers))
	lctx := ctx
	for _, w := range work {
		if w == syftFull {
			var err error
			if lctx, err = licenseContext(ctx); err != nil {
				for i := range out {
					out[i].err = err
				}
				return out
			}
			break
		}
	}
	sem := make(chan struct{}, syftLayerJobs)
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = catalogLayer(lctx, l, work[i])
		}()
	}
	wg.Wait()
	return out
}

func catalogLayer(ctx context.Context, l *extract.Layer, w syftWork) (r layerSBOM) {
	defer func() {
		// syft parses hostile file contents; a panic in a cataloger is
		// this layer's error, not the scan's end
		if p := recover(); p != nil {
			r = layerSBOM{err: fmt.Errorf("syft panicked: %v", p)}
		}
	}()
	if err := ctx.Err(); err != nil {
		return layerSBOM{err: err}
	}
	src, err := directorysource.New(directorysource.Config{Path: l.Root, Base: l.Root})
	if err != nil {
		return layerSBOM{err: err}
	}
	defer src.Close()
	if w == syftClassify {
		return classifyOnly(ctx, src)
	}
	s, err := syft.CreateSBOM(ctx, src, SyftConfig())
	return layerSBOM{sbom: s, err: err}
}

// classifyOnly runs syft's binary classifier cataloger by itself: all a
// layer needs when only classifier file names matched. It needs no license
// scanner, so it costs what indexing the layer costs; the packages carry
// the classifier's PURL and CPEs.
func classifyOnly(ctx context.Context, src source.Source) layerSBOM {
	res, err := src.FileResolver(source.SquashedScope)
	if err != nil {
		return layerSBOM{err: err}
	}
	// the error joins per-file read and parse failures, which a full syft
	// run records as unknowns, not as a failure; they are dropped here
	// the same way
	ps, rels, _ := binary.NewClassifierCataloger(binary.DefaultClassifierCatalogerConfig()).Catalog(ctx, res)
	s := &sbom.SBOM{Artifacts: sbom.Artifacts{Packages: pkg.NewCollection()}, Relationships: rels, Source: src.Describe()}
	for _, p := range ps {
		p.FoundBy = "binary-classifier-cataloger"
		p.SetID()
		s.Artifacts.Packages.Add(p)
	}
	return layerSBOM{sbom: s}
}

// syft builds a license scanner (google/licensecheck compiling its whole
// license corpus into a DFA: about 1.6 s of CPU, more than everything else
// syft does on a router file system) for every CreateSBOM call that does
// not find one in its context. fwaudit builds it once per process, on the
// first full syft run, and hands it to every call.
var (
	licOnce sync.Once
	licCtx  context.Context
	licErr  error
)

func licenseContext(ctx context.Context) (context.Context, error) {
	licOnce.Do(func() {
		licCtx, licErr = syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	})
	if licErr != nil {
		return nil, licErr
	}
	return valuesFrom{Context: ctx, values: licCtx}, nil
}

// valuesFrom is ctx (deadline, cancellation, values) that also carries the
// values of another context: syft's license scanner.
type valuesFrom struct {
	context.Context
	values context.Context
}

func (c valuesFrom) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.values.Value(key)
}

// globSet is what the selected catalogers read: patterns[:full] call for
// a full syft run (package databases: dpkg and opkg, apk, rpm; kernel
// images for syft's linux-kernel cataloger), the rest are the file names
// syft's binary classifiers look at.
type globSet struct {
	patterns []string
	full     int
}

func syftGlobs() globSet {
	g := globSet{patterns: []string{
		"**/lib/dpkg/status", "**/lib/dpkg/status.d/*", "**/lib/opkg/info/*.control", "**/lib/opkg/status",
		pkg.ApkDBGlob, pkg.RpmDBGlob, pkg.RpmManifestGlob,
		"**/kernel", "**/kernel-*", "**/vmlinux", "**/vmlinux-*", "**/vmlinuz", "**/vmlinuz-*",
		"**/bzImage", "**/bzImage-*", "**/zImage", "**/zImage-*",
	}}
	g.full = len(g.patterns)
	for _, c := range binary.DefaultClassifiers() {
		g.patterns = append(g.patterns, c.FileGlob)
	}
	return g
}

var syftGlobList = sync.OnceValue(syftGlobs)

// syftWork is what syft has to do in a layer.
type syftWork int

const (
	// syftNothing: none of the selected catalogers has anything to read.
	syftNothing syftWork = iota
	// syftClassify: only file names syft's binary classifier knows.
	syftClassify
	// syftFull: a package database, a kernel image or an ELF package
	// note: all selected catalogers run (syft.CreateSBOM).
	syftFull
)

// syftWorkIn says what syft's selected catalogers have to read in a layer:
// package databases, kernel images or ELF files carrying a package note
// (.note.package, read by syft's ELF package cataloger) call for a full
// syft run; files whose names syft's binary classifiers know only for the binary
// classifier; many firmware file systems hold neither. The full run has a
// fixed cost (building syft's license scanner, about 1.6 s of CPU) that
// neither of the other two pays. Only regular files count: BusyBox applet
// links (gzip, bash, ...) would match classifiers that then find nothing.
// Kernel modules alone do not count: syft reports them only with a
// modinfo kernel version, and fwaudit's classifiers find the kernel in
// the kernel image.
func syftWorkIn(root string) syftWork {
	globs := syftGlobList()
	work := syftNothing
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		rel = "/" + filepath.ToSlash(rel)
		for i, g := range globs.patterns {
			if ok, _ := doublestar.Match(g, rel); ok {
				if i < globs.full {
					work = syftFull
					return fs.SkipAll
				}
				work = syftClassify
			}
		}
		if hasPackageNote(p) {
			work = syftFull
			return fs.SkipAll
		}
		return nil
	})
	return work
}

// hasPackageNote says whether the file is an ELF file with a .note.package
// section (systemd's package-metadata note).
func hasPackageNote(p string) (ok bool) {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != elf.ELFMAG {
		return false
	}
	defer func() {
		// debug/elf on a hostile header
		if recover() != nil {
			ok = false
		}
	}()
	ef, err := elf.NewFile(f)
	if err != nil {
		return false
	}
	return ef.Section(".note.package") != nil
}
