package integrity

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
)

func run(t *testing.T, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// summary renders findings as "format@severity" sorted.
func summary(tg *analyzers.Target, fs []analyzers.Finding) string {
	format := map[string]string{}
	for _, l := range tg.Layers {
		format[l.ID] = l.Format
	}
	var out []string
	for _, f := range fs {
		out = append(out, format[f.LayerID]+"@"+string(f.Severity))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		fixture, want, evidence, hint string
	}{
		{"tplink.bin", "tplink@medium", "MD5 over the whole image", ""},
		{"uimage-lzma.bin", "uimage@medium", "CRC32", ""},
		{"trx.bin", "trx@medium", "TRX header", ""},
		{"fit.itb", "fit@medium", "no signature node", ""},
		{"fit-signed.itb", "", "", "/configurations/conf-1/signature-1 (sha256,rsa2048, key dev)"},
		{"rootfs.tar.gz", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			tg := testcorpus.ExtractTarget(t, testcorpus.Fixture(c.fixture))
			fs := run(t, tg)
			// coverage: a container header was examined, unless there is none
			if cv := tg.CoverageOf("integrity"); (cv.Examined > 0) != (c.fixture != "rootfs.tar.gz") {
				t.Errorf("coverage %+v", cv)
			}
			if got := summary(tg, fs); got != c.want {
				t.Fatalf("findings = %q, want %q", got, c.want)
			}
			for _, f := range fs {
				if f.Rule != Rule || f.Category != Category || len(f.Guidelines) != 1 || f.Guidelines[0] != 7 || f.Offset == nil || f.Fingerprint == "" {
					t.Errorf("finding fields: %+v", f)
				}
				if !strings.Contains(f.Evidence, c.evidence) {
					t.Errorf("evidence %q lacks %q", f.Evidence, c.evidence)
				}
			}
			hints := compliance.FindHints(tg)["signed-container"]
			if c.hint == "" && len(hints) > 0 {
				t.Errorf("signed-container hints on an unsigned image: %v", hints)
			}
			if c.hint != "" && (len(hints) != 1 || !strings.Contains(hints[0], c.hint)) {
				t.Errorf("signed-container hints = %v, want one naming %q", hints, c.hint)
			}
		})
	}
}

// TestVerdictGuideline7: the checksum-only FIT fails guideline 7 and ETSI
// 5.7-1; the signed FIT leaves them needing evidence, with the signature
// listed as a hint.
func TestVerdictGuideline7(t *testing.T) {
	for fixture, want := range map[string]compliance.Verdict{"fit.itb": compliance.Fail, "fit-signed.itb": compliance.NeedsEvidence} {
		tg := testcorpus.ExtractTarget(t, testcorpus.Fixture(fixture))
		fs := run(t, tg)
		for i := range fs {
			fs[i].SetID()
		}
		res := compliance.Evaluate(compliance.Input{Findings: fs, Ran: []string{"integrity"}, Layers: tg.Layers, Hints: compliance.FindHints(tg)}, nil)
		for fw, id := range map[string]string{"cop": "7", "etsi": "5.7-1"} {
			for _, it := range res.Frameworks[fw] {
				if it.ID != id {
					continue
				}
				if it.Verdict != want {
					t.Errorf("%s: %s %s = %s (%s), want %s", fixture, fw, id, it.Verdict, it.Note, want)
				}
				if want == compliance.NeedsEvidence && len(it.Hints) == 0 {
					t.Errorf("%s: %s %s lists no signed-container hint", fixture, fw, id)
				}
			}
		}
	}
}

// TestRealTPLink: the TL-WR841N v10 update is protected by the TP-Link
// header's salted MD5 and its kernel by a uImage CRC32; no signature.
func TestRealTPLink(t *testing.T) {
	tg := testcorpus.ExtractTarget(t, testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"))
	fs := run(t, tg)
	got := summary(tg, fs)
	if !strings.HasPrefix(got, "tplink@medium") || !strings.Contains(got, "uimage@medium") {
		t.Fatalf("findings = %q, want the TP-Link header and a uImage, medium", got)
	}
	if hints := compliance.FindHints(tg)["signed-container"]; len(hints) != 0 {
		t.Errorf("signed-container hints: %v", hints)
	}
}

// TestSignedAncestorCovers: a checksum container inside a signed one is
// covered by the signature; a checksum container beside a signed one is a
// low note that names the signed one.
func TestSignedAncestorCovers(t *testing.T) {
	sig := &extract.Protection{Kind: extract.ProtectionSignature, Algorithms: []string{"sha256,rsa2048"}, Detail: "signed"}
	crc := &extract.Protection{Kind: extract.ProtectionChecksum, Algorithms: []string{"crc32"}, Detail: "crc"}
	layers := []*extract.Layer{
		{ID: "L0", Path: "image", Format: "image"},
		{ID: "L1", Parent: "L0", Path: "fit@0x0", Format: "fit", Protection: sig},
		{ID: "L2", Parent: "L1", Path: "fit@0x0 > /images/kernel > uimage@0x0", Format: "uimage", Protection: crc},
		{ID: "L3", Parent: "L0", Path: "trx@0x100000", Format: "trx", Offset: 0x100000, Protection: crc},
	}
	fs := run(t, analyzers.NewTarget(layers))
	if len(fs) != 1 || fs[0].LayerID != "L3" || fs[0].Severity != analyzers.Low || !strings.Contains(fs[0].Message, "L1 (fit)") {
		t.Fatalf("findings = %+v, want one low finding on L3 naming L1", fs)
	}
}
