package scan

import (
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
	"github.com/fwaudit/fwaudit/analyzers/eol"
	"github.com/fwaudit/fwaudit/report"
)

// TestApplyEOL: the eol analyzer's judgements land on the components of
// that name and version, whichever source found them, with the finding
// linked; other components and other findings' fingerprints are left
// alone.
func TestApplyEOL(t *testing.T) {
	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	catalog := []components.Component{
		{Name: "openssl", Version: "1.0.2u", Locations: []components.Location{{Layer: "squashfs@0x0", Path: "/usr/lib/libssl.so.1.0.0"}}},
		{Name: "busybox", Version: "1.31.0", Locations: []components.Location{{Layer: "squashfs@0x0", Path: "/bin/busybox"}}},
	}
	fs := eol.Evaluate(catalog, day, eol.DefaultPolicy())
	if len(fs) != 2 {
		t.Fatalf("eol gave %d findings, want 2", len(fs))
	}
	// a finding of another analyzer with the same fingerprint changes nothing
	fs = append(fs, analyzers.Finding{ID: "FW-OTHER", Rule: "private-key", Fingerprint: eol.ComponentKey("dropbear", "2019.78")})
	comps := []report.Component{
		{Name: "busybox", Version: "1.31.0", FoundBy: "binary-classifier-cataloger"},
		{Name: "openssl", Version: "1.0.2u", FoundBy: FoundByFirmware},
		{Name: "openssl", Version: "3.5.7"},
		{Name: "dropbear", Version: "2019.78"},
	}
	applyEOL(comps, fs)
	ids := map[string]string{}
	for _, f := range fs {
		ids[f.Fingerprint] = f.ID
	}
	want := []struct {
		status string
		key    string
	}{
		{report.EOLStale, eol.ComponentKey("busybox", "1.31.0")},
		{report.EOLEnded, eol.ComponentKey("openssl", "1.0.2u")},
		{"", ""}, {"", ""},
	}
	for i, w := range want {
		e := comps[i].EOL
		if w.status == "" {
			if e != nil {
				t.Errorf("%s %s: status %+v, want none", comps[i].Name, comps[i].Version, e)
			}
			continue
		}
		if e == nil || e.Status != w.status || e.Finding != ids[w.key] || e.Detail == "" {
			t.Errorf("%s %s: status %+v, want %s linked to %s", comps[i].Name, comps[i].Version, e, w.status, ids[w.key])
		}
	}
}
