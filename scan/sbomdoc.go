package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	"github.com/anchore/syft/syft/sbom"

	rulescomponents "github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/report"
)

// The SBOMs fwaudit writes describe the firmware image, made by fwaudit:
//
//   - the subject (CycloneDX metadata.component, the SPDX package the
//     document DESCRIBES) is the image, type firmware, named by the vendor
//     header where there is one (vendor, model, release: the TP-Link
//     header's vendor string, hw_id and ver_hi.ver_mid.ver_lo), else by its
//     file name, with its SHA-256;
//   - fwaudit is the creator and tool; syft is listed as a tool fwaudit
//     used; the serial number / document namespace are fwaudit's, derived
//     from the image SHA-256 (the same image gives the same ones);
//   - every unpacked layer is a component (type file) and the
//     dependencies (SPDX: CONTAINS relationships) tie the image to its
//     layers and each layer to the layers and components found in it;
//   - component types: os → operating-system, firmware (boot loaders) →
//     firmware, library → library, other programs → application;
//   - bom-refs are derived from names, versions and layer paths, never
//     random.
//
// The creation timestamp is the only part that changes between runs.

// sbomNamespace is the root of fwaudit's SPDX document namespaces and of
// the name its CycloneDX serial numbers are derived from.
const sbomNamespace = "https://github.com/fwaudit/fwaudit/sbom/"

// sbomSubject is what an SBOM describes: the image.
type sbomSubject struct {
	File   string
	SHA256 string
	ID     extract.Identity
}

func subjectOf(image string, res *extract.Result) sbomSubject {
	s := sbomSubject{File: filepath.Base(image), SHA256: res.SHA256}
	for _, l := range res.Layers {
		if l != nil && l.Identity != nil {
			s.ID = *l.Identity
			break
		}
	}
	return s
}

// Name is the device model where the header names it, else the file name.
func (s sbomSubject) Name() string {
	if s.ID.Product != "" {
		if s.ID.Vendor != "" {
			return s.ID.Vendor + " " + s.ID.Product + " firmware"
		}
		return s.ID.Product + " firmware"
	}
	return s.File
}

// Version is the release where the header names it, else the SHA-256.
func (s sbomSubject) Version() string {
	if s.ID.Version != "" {
		return s.ID.Version
	}
	return "sha256:" + s.SHA256
}

// syftVersion is the version of the syft module linked in.
func syftVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/anchore/syft" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

// componentType maps a component's type (rules/components: binary, os,
// library, firmware; syft's package types) to the CycloneDX type.
func componentType(c *report.Component) cyclonedx.ComponentType {
	switch c.Type {
	case rulescomponents.TypeOS, "linux-kernel":
		return cyclonedx.ComponentTypeOS
	case rulescomponents.TypeFirmware:
		return cyclonedx.ComponentTypeFirmware
	case rulescomponents.TypeLibrary:
		return cyclonedx.ComponentTypeLibrary
	}
	if strings.HasPrefix(c.Name, "lib") {
		return cyclonedx.ComponentTypeLibrary
	}
	return cyclonedx.ComponentTypeApplication
}

// spdxPurpose maps a CycloneDX component type to an SPDX 2.3 primary
// package purpose.
func spdxPurpose(t cyclonedx.ComponentType) string {
	switch t {
	case cyclonedx.ComponentTypeOS:
		return "OPERATING_SYSTEM"
	case cyclonedx.ComponentTypeFirmware:
		return "FIRMWARE"
	case cyclonedx.ComponentTypeLibrary:
		return "LIBRARY"
	case cyclonedx.ComponentTypeFile:
		return "FILE"
	}
	return "APPLICATION"
}

// refSafe keeps a bom-ref or SPDX id readable and valid.
func refSafe(s string, spdxID bool) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-':
			b.WriteRune(c)
		case !spdxID && (c == '@' || c == ':' || c == '/' || c == '_' || c == '+'):
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// sbomGraph is the structure both documents share: layers, the
// components in each, deterministic references.
type sbomGraph struct {
	subj   sbomSubject
	layers []*extract.Layer
	// layerRef by layer path; compRef by component key (name NUL version)
	layerRef map[string]string
	compRef  map[string]string
	comps    map[string]*report.Component
}

func compKey(name, version string) string { return name + "\x00" + version }

func newGraph(subj sbomSubject, layers []*extract.Layer, comps []report.Component) *sbomGraph {
	g := &sbomGraph{subj: subj, layerRef: map[string]string{}, compRef: map[string]string{}, comps: map[string]*report.Component{}}
	for _, l := range layers {
		if l == nil || l.Format == "image" || l.Parent == "" {
			continue
		}
		g.layers = append(g.layers, l)
		g.layerRef[l.Path] = "layer:" + l.ID + ":" + refSafe(l.Path, false)
	}
	used := map[string]bool{}
	for i := range comps {
		c := &comps[i]
		k := compKey(c.Name, c.Version)
		if _, dup := g.compRef[k]; dup {
			continue
		}
		ref := "component:" + refSafe(c.Name+"@"+c.Version, false)
		for n := 2; used[ref]; n++ {
			ref = fmt.Sprintf("component:%s@%s-%d", refSafe(c.Name, false), refSafe(c.Version, false), n)
		}
		used[ref] = true
		g.compRef[k] = ref
		g.comps[k] = c
	}
	return g
}

func (g *sbomGraph) imageRef() string { return "image:sha256:" + g.subj.SHA256 }

// children returns, per reference, what it contains (sorted): the image
// its top layers, a layer its child layers and the components found in it.
func (g *sbomGraph) children() map[string][]string {
	out := map[string][]string{g.imageRef(): {}}
	byID := map[string]*extract.Layer{}
	for _, l := range g.layers {
		byID[l.ID] = l
		out[g.layerRef[l.Path]] = []string{}
	}
	for _, l := range g.layers {
		parent := g.imageRef()
		if p := byID[l.Parent]; p != nil {
			parent = g.layerRef[p.Path]
		}
		out[parent] = append(out[parent], g.layerRef[l.Path])
	}
	for k, c := range g.comps {
		placed := false
		for _, lp := range c.Layers {
			if r, ok := g.layerRef[lp]; ok {
				out[r] = appendUnique(out[r], g.compRef[k])
				placed = true
			}
		}
		if !placed {
			out[g.imageRef()] = appendUnique(out[g.imageRef()], g.compRef[k])
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// encodeCycloneDX writes sbom.cdx.json (CycloneDX 1.6).
func encodeCycloneDX(merged sbom.SBOM, g *sbomGraph) ([]byte, error) {
	bom := cyclonedxhelpers.ToFormatModel(merged)
	bom.SerialNumber = "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(sbomNamespace+"cyclonedx/"+g.subj.SHA256)).String()
	if bom.Metadata == nil {
		bom.Metadata = &cyclonedx.Metadata{}
	}
	bom.Metadata.Tools = &cyclonedx.ToolsChoice{Components: &[]cyclonedx.Component{
		{Type: cyclonedx.ComponentTypeApplication, BOMRef: "tool:fwaudit", Name: "fwaudit", Version: Version,
			Description:        "firmware audit: unpacked the image, found the firmware components and wrote this SBOM",
			ExternalReferences: &[]cyclonedx.ExternalReference{{Type: cyclonedx.ERTypeWebsite, URL: "https://github.com/fwaudit/fwaudit"}}},
		{Type: cyclonedx.ComponentTypeApplication, BOMRef: "tool:syft", Name: "syft", Version: syftVersion(),
			Supplier:           &cyclonedx.OrganizationalEntity{Name: "Anchore, Inc."},
			Description:        "used by fwaudit to catalog package databases and binaries of the unpacked file systems",
			ExternalReferences: &[]cyclonedx.ExternalReference{{Type: cyclonedx.ERTypeVCS, URL: "https://github.com/anchore/syft"}}},
	}}
	bom.Metadata.Authors = nil
	subject := &cyclonedx.Component{
		BOMRef:      g.imageRef(),
		Type:        cyclonedx.ComponentTypeFirmware,
		Name:        g.subj.Name(),
		Version:     g.subj.Version(),
		Description: "firmware image " + g.subj.File,
		Hashes:      &[]cyclonedx.Hash{{Algorithm: cyclonedx.HashAlgoSHA256, Value: g.subj.SHA256}},
	}
	props := []cyclonedx.Property{{Name: "fwaudit:image:file-name", Value: g.subj.File}}
	if g.subj.ID.Vendor != "" {
		subject.Manufacturer = &cyclonedx.OrganizationalEntity{Name: g.subj.ID.Vendor}
		subject.Supplier = &cyclonedx.OrganizationalEntity{Name: g.subj.ID.Vendor}
	}
	if g.subj.ID.Hardware != "" {
		props = append(props, cyclonedx.Property{Name: "fwaudit:image:hardware", Value: g.subj.ID.Hardware})
	}
	subject.Properties = &props
	bom.Metadata.Component = subject

	// components: syft's, re-typed and re-referenced; then the layers
	oldRefs := map[string]string{}
	var out []cyclonedx.Component
	if bom.Components != nil {
		for _, c := range *bom.Components {
			k := compKey(c.Name, c.Version)
			rc, ok := g.comps[k]
			if !ok {
				continue // syft's own file or source entries
			}
			oldRefs[c.BOMRef] = g.compRef[k]
			c.BOMRef = g.compRef[k]
			c.Type = componentType(rc)
			out = append(out, c)
		}
	}
	for _, l := range g.layers {
		lp := []cyclonedx.Property{
			{Name: "fwaudit:layer:id", Value: l.ID},
			{Name: "fwaudit:layer:format", Value: l.Format},
			{Name: "fwaudit:layer:status", Value: string(l.Status)},
			{Name: "fwaudit:layer:offset", Value: fmt.Sprintf("0x%x", l.Offset)},
		}
		if l.Source != "" {
			lp = append(lp, cyclonedx.Property{Name: "fwaudit:layer:source", Value: l.Source})
		}
		if l.Protection != nil {
			lp = append(lp, cyclonedx.Property{Name: "fwaudit:layer:protection", Value: l.Protection.Kind + " (" + strings.Join(l.Protection.Algorithms, ", ") + ")"})
		}
		out = append(out, cyclonedx.Component{BOMRef: g.layerRef[l.Path], Type: cyclonedx.ComponentTypeFile, Name: l.Path,
			Description: fmt.Sprintf("layer %s of the image: %s (%s)", l.ID, l.Format, l.Kind), Properties: &lp})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].BOMRef < out[j].BOMRef })
	bom.Components = &out

	deps := g.children()
	// syft's own relationships between packages, re-referenced
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			from, ok := oldRefs[d.Ref]
			if !ok || d.Dependencies == nil {
				continue
			}
			for _, to := range *d.Dependencies {
				if r, ok := oldRefs[to]; ok && r != from {
					deps[from] = appendUnique(deps[from], r)
				}
			}
		}
	}
	refs := make([]string, 0, len(deps))
	for r := range deps {
		refs = append(refs, r)
	}
	for _, c := range out {
		if _, ok := deps[c.BOMRef]; !ok {
			refs = append(refs, c.BOMRef)
			deps[c.BOMRef] = nil
		}
	}
	sort.Strings(refs)
	var dl []cyclonedx.Dependency
	for _, r := range refs {
		on := deps[r]
		sort.Strings(on)
		d := cyclonedx.Dependency{Ref: r}
		if len(on) > 0 {
			d.Dependencies = &on
		} else {
			d.Dependencies = &[]string{}
		}
		dl = append(dl, d)
	}
	bom.Dependencies = &dl

	var b bytes.Buffer
	enc := cyclonedx.NewBOMEncoder(&b, cyclonedx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cyclonedx.SpecVersion1_6); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeSPDX writes sbom.spdx.json (SPDX 2.3).
func encodeSPDX(merged sbom.SBOM, g *sbomGraph) ([]byte, error) {
	doc := spdxhelpers.ToFormatModel(merged)
	if doc == nil {
		return nil, fmt.Errorf("syft could not convert the SBOM to SPDX")
	}
	doc.DocumentName = g.subj.File
	doc.DocumentNamespace = sbomNamespace + "spdx/" + url.PathEscape(g.subj.File) + "-" + g.subj.SHA256
	if doc.CreationInfo == nil {
		doc.CreationInfo = &spdx.CreationInfo{}
	}
	doc.CreationInfo.Creators = []common.Creator{
		{CreatorType: "Tool", Creator: "fwaudit-" + Version},
		{CreatorType: "Tool", Creator: "syft-" + syftVersion()},
	}
	doc.CreationInfo.CreatorComment = "fwaudit unpacked the firmware image, found its components (with syft for package databases and binaries) and wrote this document."

	imageID := common.ElementID("Firmware-Image-" + g.subj.SHA256[:16])
	img := &spdx.Package{
		PackageName:             g.subj.Name(),
		PackageSPDXIdentifier:   imageID,
		PackageVersion:          g.subj.Version(),
		PackageFileName:         g.subj.File,
		PackageDownloadLocation: "NOASSERTION",
		FilesAnalyzed:           false,
		PackageChecksums:        []common.Checksum{{Algorithm: common.SHA256, Value: g.subj.SHA256}},
		PrimaryPackagePurpose:   "FIRMWARE",
		PackageDescription:      "firmware image " + g.subj.File,
		PackageLicenseConcluded: "NOASSERTION",
		PackageLicenseDeclared:  "NOASSERTION",
		PackageCopyrightText:    "NOASSERTION",
	}
	if g.subj.ID.Vendor != "" {
		img.PackageSupplier = &common.Supplier{Supplier: g.subj.ID.Vendor, SupplierType: "Organization"}
		img.PackageOriginator = &common.Originator{Originator: g.subj.ID.Vendor, OriginatorType: "Organization"}
	}
	if g.subj.ID.Hardware != "" {
		img.PackageComment = g.subj.ID.Hardware
	}

	ids := map[string]common.ElementID{g.imageRef(): imageID}
	var pkgs []*spdx.Package
	for _, p := range doc.Packages {
		rc, ok := g.comps[compKey(p.PackageName, p.PackageVersion)]
		if !ok {
			continue // syft's package for the source itself
		}
		p.PrimaryPackagePurpose = spdxPurpose(componentType(rc))
		ids[g.compRef[compKey(rc.Name, rc.Version)]] = p.PackageSPDXIdentifier
		pkgs = append(pkgs, p)
	}
	for _, l := range g.layers {
		id := common.ElementID("Layer-" + refSafe(l.ID, true))
		ids[g.layerRef[l.Path]] = id
		pkgs = append(pkgs, &spdx.Package{
			PackageName:             l.Path,
			PackageSPDXIdentifier:   id,
			PackageDownloadLocation: "NOASSERTION",
			FilesAnalyzed:           false,
			PrimaryPackagePurpose:   "FILE",
			PackageDescription:      fmt.Sprintf("layer %s of the image: %s (%s), status %s", l.ID, l.Format, l.Kind, l.Status),
			PackageLicenseConcluded: "NOASSERTION",
			PackageLicenseDeclared:  "NOASSERTION",
			PackageCopyrightText:    "NOASSERTION",
		})
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].PackageSPDXIdentifier < pkgs[j].PackageSPDXIdentifier })
	doc.Packages = append([]*spdx.Package{img}, pkgs...)

	// relationships: the document describes the image; containment from
	// the graph; syft's package-to-package relationships between kept
	// packages
	kept := map[common.ElementID]bool{}
	for _, p := range doc.Packages {
		kept[p.PackageSPDXIdentifier] = true
	}
	docID := common.ElementID("DOCUMENT")
	rels := []*spdx.Relationship{{RefA: common.MakeDocElementID("", string(docID)), RefB: common.MakeDocElementID("", string(imageID)), Relationship: "DESCRIBES"}}
	var more []*spdx.Relationship
	for from, tos := range g.children() {
		for _, to := range tos {
			if ids[from] == "" || ids[to] == "" {
				continue
			}
			more = append(more, &spdx.Relationship{RefA: common.MakeDocElementID("", string(ids[from])), RefB: common.MakeDocElementID("", string(ids[to])), Relationship: "CONTAINS"})
		}
	}
	for _, r := range doc.Relationships {
		if r.RefA.ElementRefID == docID || !kept[r.RefA.ElementRefID] || !kept[r.RefB.ElementRefID] {
			continue
		}
		more = append(more, r)
	}
	sort.SliceStable(more, func(i, j int) bool {
		a, b := more[i], more[j]
		if a.RefA.ElementRefID != b.RefA.ElementRefID {
			return a.RefA.ElementRefID < b.RefA.ElementRefID
		}
		if a.Relationship != b.Relationship {
			return a.Relationship < b.Relationship
		}
		return a.RefB.ElementRefID < b.RefB.ElementRefID
	})
	doc.Relationships = append(rels, more...)
	doc.Files = nil

	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
