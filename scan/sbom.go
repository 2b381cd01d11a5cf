package scan

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cpe"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/pkg"
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
	for _, l := range res.Layers {
		if !withSyft {
			break
		}
		if l.Root == "" || !l.IsFilesystem() || l.Files == 0 {
			continue
		}
		src, err := directorysource.New(directorysource.Config{Path: l.Root, Base: l.Root})
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", l.Path, err))
			continue
		}
		cfg := syft.DefaultCreateSBOMConfig().WithTool("fwaudit", Version).WithParallelism(2)
		s, err := syft.CreateSBOM(ctx, src, cfg)
		src.Close()
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", l.Path, err))
			continue
		}
		for p := range s.Artifacts.Packages.Enumerate() {
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
	cdx, err := cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.EncoderConfig{Version: "1.6", Pretty: true})
	if err != nil {
		return comps, docs, &merged, err
	}
	spdx, err := spdxjson.NewFormatEncoderWithConfig(spdxjson.EncoderConfig{Version: "2.3", Pretty: true})
	if err != nil {
		return comps, docs, &merged, err
	}
	var b1, b2 bytes.Buffer
	if err := cdx.Encode(&b1, merged); err != nil {
		return comps, docs, &merged, err
	}
	if err := spdx.Encode(&b2, merged); err != nil {
		return comps, docs, &merged, err
	}
	docs["sbom.cdx.json"] = b1.Bytes()
	docs["sbom.spdx.json"] = b2.Bytes()
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
