package tokens

import (
	"context"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

func summary(fs []analyzers.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(string(f.Severity) + " " + f.Rule + " " + f.Path + " — " + f.Evidence + "\n")
	}
	return b.String()
}

// The real images ship no API tokens: every gitleaks hit in them was
// inspected and is suppressed for a documented reason (see the package
// comment).
func TestRealImagesNoTokens(t *testing.T) {
	for _, rel := range []string{
		"real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin",
		"real/zyxel_p663h51_rootfs_squashfs_v2.bin",
		"real/tplink_mr3020_v1_3.17.2_testroot.tpl",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			tg := testcorpus.ExtractTarget(t, testcorpus.Shared(t, rel))
			if len(tg.Files()) < 3 {
				t.Fatalf("only %d files extracted", len(tg.Files()))
			}
			onSuppress = func(rule, secret, why string) { t.Logf("suppressed %s %q: %s", rule, secret, why) }
			defer func() { onSuppress = nil }()
			fs, err := New().Analyze(context.Background(), tg)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 0 {
				t.Errorf("want no token findings, got:\n%s", summary(fs))
			}
		})
	}
}

func TestIoTGoatOverlayNoTokens(t *testing.T) {
	dir := testcorpus.Shared(t, "iotgoat-overlay")
	l := &extract.Layer{ID: "L1", Path: "iotgoat-overlay", Kind: "filesystem", Root: dir, Format: "dir"}
	tg := analyzers.NewTarget([]*extract.Layer{l})
	if len(tg.Files()) == 0 {
		t.Fatal("no files in the overlay")
	}
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Errorf("want no token findings, got:\n%s", summary(fs))
	}
}

func BenchmarkTokensWR841N(b *testing.B) {
	tg := testcorpus.ExtractTarget(b, testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"))
	var n int64
	for _, f := range tg.Files() {
		n += f.Size
	}
	b.SetBytes(n)
	a := New()
	if _, err := loadEngine(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}
