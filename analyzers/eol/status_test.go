package eol

import (
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/components"
)

// TestStatusOf: every finding Evaluate makes names its component's status
// and carries the component's key, so the scan can put the status on the
// component without knowing rule names.
func TestStatusOf(t *testing.T) {
	comps := []components.Component{
		comp("openssl", "1.0.2u"),
		comp("busybox", "1.31.0"),
		comp("busybox", "1.37.0"),
	}
	fs := Evaluate(comps, scan, DefaultPolicy())
	if len(fs) != 2 {
		t.Fatalf("%d findings, want 2", len(fs))
	}
	got := map[string]Status{}
	for _, f := range fs {
		s, ok := StatusOf(f)
		if !ok {
			t.Fatalf("finding %s has no status", f.Rule)
		}
		for _, c := range comps {
			if ComponentKey(c.Name, c.Version) == f.Fingerprint {
				got[c.Name+" "+c.Version] = s
			}
		}
	}
	want := map[string]Status{"openssl 1.0.2u": Ended, "busybox 1.31.0": Stale}
	if len(got) != len(want) || got["openssl 1.0.2u"] != Ended || got["busybox 1.31.0"] != Stale {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if _, ok := StatusOf(analyzers.Finding{Rule: "private-key"}); ok {
		t.Error("a private-key finding gives a component a status")
	}
	if ComponentKey("busybox", "1.31.0") == ComponentKey("busybox", "1.31.1") {
		t.Error("two versions share a key")
	}
}
