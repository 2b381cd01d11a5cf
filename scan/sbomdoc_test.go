package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sbomView is the part of sbom.cdx.json the subject tests read.
type sbomView struct {
	SerialNumber string `json:"serialNumber"`
	Metadata     struct {
		Timestamp string `json:"timestamp"`
		Tools     struct {
			Components []struct {
				Name     string `json:"name"`
				Version  string `json:"version"`
				Supplier *struct {
					Name string `json:"name"`
				} `json:"supplier"`
			} `json:"components"`
		} `json:"tools"`
		Component struct {
			BOMRef       string `json:"bom-ref"`
			Type         string `json:"type"`
			Name         string `json:"name"`
			Version      string `json:"version"`
			Manufacturer *struct {
				Name string `json:"name"`
			} `json:"manufacturer"`
			Hashes []struct {
				Alg     string `json:"alg"`
				Content string `json:"content"`
			} `json:"hashes"`
		} `json:"component"`
	} `json:"metadata"`
	Components []struct {
		BOMRef string `json:"bom-ref"`
		Type   string `json:"type"`
		Name   string `json:"name"`
	} `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
}

type spdxView struct {
	Namespace    string `json:"documentNamespace"`
	CreationInfo struct {
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		ID       string `json:"SPDXID"`
		Name     string `json:"name"`
		Version  string `json:"versionInfo"`
		Purpose  string `json:"primaryPackagePurpose"`
		Supplier string `json:"supplier"`
	} `json:"packages"`
	Relationships []struct {
		A    string `json:"spdxElementId"`
		B    string `json:"relatedSpdxElement"`
		Type string `json:"relationshipType"`
	} `json:"relationships"`
}

// checkSubject checks what the brief of both SBOMs asks: the image is the
// subject, fwaudit the creator, syft a tool it used, everything reachable
// from the image through the layers, deterministic references.
func checkSubject(t *testing.T, docs map[string][]byte, sha, name, version, vendor string) (sbomView, spdxView) {
	t.Helper()
	checkDocs(t, docs, false)
	var c sbomView
	if err := json.Unmarshal(docs["sbom.cdx.json"], &c); err != nil {
		t.Fatal(err)
	}
	m := c.Metadata.Component
	if m.Type != "firmware" || m.Name != name || m.Version != version || len(m.Hashes) != 1 || m.Hashes[0].Content != sha || m.BOMRef != "image:sha256:"+sha {
		t.Errorf("metadata.component = %+v, want firmware %q %q sha256 %s", m, name, version, sha)
	}
	if vendor != "" && (m.Manufacturer == nil || m.Manufacturer.Name != vendor) {
		t.Errorf("manufacturer = %+v, want %q", m.Manufacturer, vendor)
	}
	var tools []string
	for _, tl := range c.Metadata.Tools.Components {
		tools = append(tools, tl.Name)
	}
	if strings.Join(tools, ",") != "fwaudit,syft" {
		t.Errorf("tools = %v, want fwaudit then syft", tools)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(c.SerialNumber) {
		t.Errorf("serialNumber %q is not a name-based (v5) UUID", c.SerialNumber)
	}
	// Anchore appears only as syft's supplier
	if n := bytes.Count(docs["sbom.cdx.json"], []byte("Anchore")); n != 1 {
		t.Errorf("sbom.cdx.json names Anchore %d times, want once (syft's supplier)", n)
	}
	// every component is reachable from the image
	deps := map[string][]string{}
	for _, d := range c.Dependencies {
		deps[d.Ref] = d.DependsOn
	}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(r string) {
		if seen[r] {
			return
		}
		seen[r] = true
		for _, n := range deps[r] {
			walk(n)
		}
	}
	walk(m.BOMRef)
	layers := 0
	for _, comp := range c.Components {
		if !seen[comp.BOMRef] {
			t.Errorf("component %s (%s) is not reachable from the image", comp.BOMRef, comp.Name)
		}
		if comp.Type == "file" {
			layers++
		}
		if strings.Contains(comp.BOMRef, "package-id") {
			t.Errorf("syft bom-ref left: %s", comp.BOMRef)
		}
	}
	if layers == 0 || len(deps[m.BOMRef]) == 0 {
		t.Errorf("no layer components (%d) or the image depends on nothing (%v)", layers, deps[m.BOMRef])
	}

	var s spdxView
	if err := json.Unmarshal(docs["sbom.spdx.json"], &s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Namespace, sbomNamespace+"spdx/") || !strings.HasSuffix(s.Namespace, sha) {
		t.Errorf("documentNamespace %q", s.Namespace)
	}
	if strings.Join(s.CreationInfo.Creators, ",") != "Tool: fwaudit-"+Version+",Tool: syft-"+syftVersion() {
		t.Errorf("creators %v", s.CreationInfo.Creators)
	}
	if bytes.Contains(docs["sbom.spdx.json"], []byte("Anchore")) || bytes.Contains(docs["sbom.spdx.json"], []byte("anchore.com")) {
		t.Error("sbom.spdx.json names Anchore")
	}
	var described string
	contains := map[string][]string{}
	for _, r := range s.Relationships {
		switch r.Type {
		case "DESCRIBES":
			if r.A == "SPDXRef-DOCUMENT" {
				described = r.B
			}
		case "CONTAINS":
			contains[r.A] = append(contains[r.A], r.B)
		}
	}
	reach := map[string]bool{}
	var walk2 func(string)
	walk2 = func(id string) {
		if reach[id] {
			return
		}
		reach[id] = true
		for _, n := range contains[id] {
			walk2(n)
		}
	}
	walk2(described)
	for _, p := range s.Packages {
		if p.ID == described {
			if p.Purpose != "FIRMWARE" || p.Name != name || p.Version != version || (vendor != "" && p.Supplier != "Organization: "+vendor) {
				t.Errorf("described package %+v", p)
			}
		}
		if !reach[p.ID] {
			t.Errorf("SPDX package %s (%s) not contained in the image", p.ID, p.Name)
		}
	}
	return c, s
}

func TestSBOMSubjectFixture(t *testing.T) {
	var docs [2]map[string][]byte
	for i := range docs {
		res, err := Run(context.Background(), fixture("flash.bin"), Options{Jobs: 2, SkipVulns: true})
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = res.SBOM
		sha := res.Report.Image.SHA256
		c, s := checkSubject(t, res.SBOM, sha, "flash.bin", "sha256:"+sha, "")
		types := map[string]string{}
		for _, comp := range c.Components {
			types[comp.Name] = comp.Type
		}
		for name, want := range map[string]string{"linux_kernel": "operating-system", "uclibc": "library", "busybox": "application"} {
			if types[name] != want {
				t.Errorf("%s typed %q, want %q (all: %v)", name, types[name], want, types)
			}
		}
		purposes := map[string]string{}
		for _, p := range s.Packages {
			purposes[p.Name] = p.Purpose
		}
		if purposes["linux_kernel"] != "OPERATING_SYSTEM" || purposes["uclibc"] != "LIBRARY" || purposes["flash.bin"] != "FIRMWARE" {
			t.Errorf("SPDX purposes %v", purposes)
		}
	}
	// deterministic: two scans give the same documents but for the
	// creation time
	strip := regexp.MustCompile(`"(timestamp|created)": "[^"]*"`)
	for _, name := range []string{"sbom.cdx.json", "sbom.spdx.json"} {
		a, b := strip.ReplaceAll(docs[0][name], nil), strip.ReplaceAll(docs[1][name], nil)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two scans of the same image", name)
		}
	}
}

// TestSBOMSubjectWR841N: the real TP-Link update names the device and the
// release in its header; the SBOMs say so.
func TestSBOMSubjectWR841N(t *testing.T) {
	img := filepath.Join(sharedFirmware(t), "real", "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := Run(context.Background(), img, Options{Jobs: 2, SkipVulns: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := checkSubject(t, res.SBOM, res.Report.Image.SHA256, "TP-LINK Technologies 841 v10 firmware", "3.16.9", "TP-LINK Technologies")
	types := map[string]string{}
	for _, comp := range c.Components {
		types[comp.Name] = comp.Type
	}
	for name, want := range map[string]string{"linux_kernel": "operating-system", "u-boot": "firmware", "uclibc": "library", "busybox": "application"} {
		if types[name] != want {
			t.Errorf("%s typed %q, want %q", name, types[name], want)
		}
	}
}
