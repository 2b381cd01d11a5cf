package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/compliance"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"github.com/fwaudit/fwaudit/report"
	"github.com/fwaudit/fwaudit/scan"
)

// testKey is the fingerprint key of the test stores.
const testKey = "fwaudit fleet test key 0123456789"

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	t.Setenv(KeyEnv, testKey)
	t.Setenv("FWAUDIT_FLEET_RETRY_BASE", "100ms")
	url := "sqlite:" + filepath.Join(t.TempDir(), "fleet.db")
	s, err := Open(context.Background(), url, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); analyzers.SetFingerprintKey(nil) })
	return s, url
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func work(t *testing.T, s *Store, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := &Worker{Scan: ScanOptions{SkipSBOM: true, SkipVulns: true, Jobs: 2}, Concurrency: 2, Out: out}
	if err := s.Work(ctx, w, true); err != nil {
		t.Fatalf("work: %v", err)
	}
}

func TestOpenRefusesBadStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var se *StoreError
	// missing store without create
	if _, err := Open(ctx, "sqlite:"+filepath.Join(dir, "none.db"), false); !errors.As(err, &se) {
		t.Errorf("missing store: %v, want a StoreError", err)
	}
	// unreachable PostgreSQL (nothing listens on port 1)
	_, err := Open(ctx, "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=2", false)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "cannot be reached") || strings.Contains(err.Error(), "secretpw") {
		t.Errorf("unreachable store: %v", err)
	}
	if _, err := Open(ctx, "mysql://x", false); !errors.As(err, &se) {
		t.Errorf("unknown scheme: %v", err)
	}
	// another schema version
	s, url := newStore(t)
	if _, err := s.db.Exec(`UPDATE fwaudit_meta SET value='99' WHERE key='schema_version'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, url, false)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("schema 99: %v", err)
	}
	// a file that is not a store
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database at all, just text that is long enough to be a header"), 0o644)
	if _, err := Open(ctx, "sqlite:"+junk, false); !errors.As(err, &se) {
		t.Errorf("junk file: %v", err)
	}
}

func TestStoreKeyFromEnvAndRandom(t *testing.T) {
	s, _ := newStore(t)
	if string(s.Key()) != testKey {
		t.Errorf("key %q, want the one from %s", s.Key(), KeyEnv)
	}
	t.Setenv(KeyEnv, "")
	s2, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "b.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(s2.Key()) != 32 || string(s2.Key()) == testKey {
		t.Errorf("generated key %x", s2.Key())
	}
	t.Setenv(KeyEnv, "short")
	if _, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "c.db"), true); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func TestAddIsIdempotent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	copyFile(t, testcorpus.Fixture("tplink.bin"), filepath.Join(dir, "a", "tplink.bin"))
	copyFile(t, testcorpus.Fixture("tplink.bin"), filepath.Join(dir, "b", "same-bytes.bin")) // identical: one image
	copyFile(t, testcorpus.Fixture("rootfs.tar"), filepath.Join(dir, "b", "c", "rootfs.tar"))
	v1 := Scanner()
	res, err := s.Add(ctx, []string{dir}, nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 2 {
		t.Fatalf("added %d, want 2 (identical files are one image): %+v", res.Added, res.Images)
	}
	res, err = s.Add(ctx, []string{dir}, nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || res.Queued != 2 {
		t.Errorf("re-add: %+v, want nothing added", res)
	}
	c, _ := s.Status(ctx)
	if c.Total != 2 || c.Queued != 2 {
		t.Errorf("status %+v", c)
	}
	work(t, s, "")
	res, err = s.Add(ctx, []string{dir}, nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || res.Scanned != 2 {
		t.Errorf("re-add after the scan: %+v, want 2 already scanned", res)
	}
	// another fwaudit version or rules scans again
	res, err = s.Add(ctx, []string{dir}, nil, v1+"+other-rules")
	if err != nil || res.Added != 2 {
		t.Errorf("new scanner: %+v %v, want 2 added", res, err)
	}
}

func TestDetectMetaAndManifest(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	copyFile(t, testcorpus.Fixture("tplink.bin"), p)
	m := DetectMeta(p)
	if m.Vendor != "TP-Link" || !strings.HasPrefix(m.Product, "TL-") && !strings.HasPrefix(m.Product, "hardware id") || m.Version != "3.16.9" {
		t.Errorf("tplink: %+v", m)
	}
	for name, want := range map[string]Meta{
		"zyxel_p663h51_fw_v1.2.3.bin": {Vendor: "ZyXEL", Product: "P663H51", Version: "1.2.3"},
		"busybox-1.31.0-arm":          {Version: "1.31.0"},
		"blob.img":                    {},
	} {
		q := filepath.Join(dir, name)
		os.WriteFile(q, []byte("not a vendor header"), 0o644)
		if got := DetectMeta(q); got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	csvPath := filepath.Join(dir, "m.csv")
	os.WriteFile(csvPath, []byte("path,vendor,product,version\nblob.img,Acme,Cam 100,1.0\n\"tplink_wr841nv10_en_3_16_9_up_boot_150310.bin\",,,9.9\n"), 0o644)
	man, err := ReadManifest(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := man[filepath.Join(dir, "blob.img")]; got != (Meta{"Acme", "Cam 100", "1.0"}) {
		t.Errorf("manifest: %+v", got)
	}
	os.WriteFile(csvPath, []byte("a,b,c,d,e,f\n"), 0o644)
	if _, err := ReadManifest(csvPath); err == nil {
		t.Error("a six-column manifest was accepted")
	}
	// the manifest wins, the header fills the gaps
	s, _ := newStore(t)
	man = Manifest{p: {Version: "9.9"}}
	res, err := s.Add(context.Background(), []string{p}, man, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if im := res.Images[0]; im.Vendor != "TP-Link" || im.Version != "9.9" {
		t.Errorf("merged meta %+v", im.Meta)
	}
}

// TestSharedSecrets: two images of two products on two file systems,
// built by mksquashfs and mke2fs (testdata/build-shared.sh), ship the same
// SSH host key and the same root hash: the fleet lists both as shared, with
// every image and path, and each image's report carries them.
func TestSharedSecrets(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	a, _ := filepath.Abs("testdata/acme_cam100_1.2.0.sqfs")
	b, _ := filepath.Abs("testdata/globex_router7_2.0.1.ext2")
	man := Manifest{a: {Vendor: "Acme", Product: "Cam 100"}, b: {Vendor: "Globex", Product: "Router 7"}}
	if _, err := s.Add(ctx, []string{a, b}, man, Scanner()); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	work(t, s, filepath.Join(out, "work"))
	rep := filepath.Join(out, "report")
	fl, err := s.WriteReport(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	// fleet.json as a reader parses it
	var doc struct {
		Images []struct {
			Name, SHA256, Status, Vendor, Product, Version string
			Findings                                       map[string]int
			CoP                                            map[string]string `json:"cop"`
		} `json:"images"`
		Shared []struct {
			Kind, Fingerprint string
			Images            []struct{ Name, SHA256, Path string }
		} `json:"shared"`
	}
	js, err := os.ReadFile(filepath.Join(rep, "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 2 {
		t.Fatalf("images: %+v", doc.Images)
	}
	for _, im := range doc.Images {
		if im.Status != StatusDone || im.Version == "" || im.Vendor == "" || len(im.SHA256) != 64 || im.CoP["1"] != "fail" || im.CoP["4"] != "fail" || im.Findings["high"] == 0 {
			t.Errorf("image %+v", im)
		}
	}
	kinds := map[string][]string{}
	for _, g := range doc.Shared {
		if len(g.Fingerprint) != 16 || len(g.Images) != 2 {
			t.Errorf("shared %+v: want a 16-digit fingerprint and 2 images", g)
			continue
		}
		for _, im := range g.Images {
			kinds[g.Kind] = append(kinds[g.Kind], im.Name+":"+im.Path)
		}
	}
	wantKey := []string{"acme_cam100_1.2.0.sqfs:/etc/ssh/ssh_host_ed25519_key", "globex_router7_2.0.1.ext2:/etc/dropbear/ssh_host_ed25519_key"}
	if !slices.Equal(kinds["private-key"], wantKey) {
		t.Errorf("shared private key: %v, want %v", kinds["private-key"], wantKey)
	}
	wantHash := []string{"acme_cam100_1.2.0.sqfs:/etc/shadow", "globex_router7_2.0.1.ext2:/etc/shadow"}
	if !slices.Equal(kinds["password-hash"], wantHash) {
		t.Errorf("shared root hash: %v, want %v", kinds["password-hash"], wantHash)
	}
	// the fingerprint is keyed: HMAC with the store's key, so the public
	// key (or plain SHA-256) does not reproduce it
	const rootHash = "$1$fwFleet1$mrVZEGTGP9hIZrMW5RDaH/" // openssl passwd -1 -salt fwFleet1 admin
	for _, g := range fl.Shared {
		if g.Kind != "password-hash" {
			continue
		}
		analyzers.SetFingerprintKey([]byte(testKey))
		if analyzers.Fingerprint(rootHash) != g.Fingerprint {
			t.Errorf("root hash fingerprint %s is not HMAC(store key, hash)", g.Fingerprint)
		}
		analyzers.SetFingerprintKey(nil)
		if analyzers.Fingerprint(rootHash) == g.Fingerprint {
			t.Error("the store's fingerprint equals the public one")
		}
	}
	// each image's own report carries the shared-secret findings
	for _, im := range fl.Images {
		b, err := os.ReadFile(filepath.Join(rep, im.Report, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r report.Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range r.Findings {
			if f.Rule == RuleShared {
				n++
				if !slices.Equal(f.Guidelines, []int{1, 4}) || !strings.Contains(f.Evidence, "2 images") {
					t.Errorf("%s: shared finding %+v", im.Name, f)
				}
			}
		}
		if n != 2 {
			t.Errorf("%s: %d shared-secret findings, want 2", im.Name, n)
		}
		for _, f := range []string{"report.md", "report.html", "findings.sarif"} {
			if _, err := os.Stat(filepath.Join(rep, im.Report, f)); err != nil {
				t.Error(err)
			}
		}
	}
	csv, _ := os.ReadFile(filepath.Join(rep, "fleet.csv"))
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 3 || !strings.HasSuffix(lines[1], ",2,") {
		t.Errorf("fleet.csv:\n%s", csv)
	}
}

// TestBadInputNeverStopsTheFleet: an empty file, random bytes, a truncated
// SquashFS, a path-traversal tar and a file deleted after fleet add are each
// one image with its own report, or a failed job with its error; the good
// image is still done.
func TestBadInputNeverStopsTheFleet(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty.bin"), nil, 0o644)
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(i*7919 + i/251)
	}
	os.WriteFile(filepath.Join(dir, "junk.bin"), junk, 0o644)
	copyFile(t, testcorpus.Fixture("sqfs-truncated.img"), filepath.Join(dir, "sqfs-truncated.img"))
	copyFile(t, testcorpus.Fixture("evil-traversal.tar"), filepath.Join(dir, "evil-traversal.tar"))
	copyFile(t, testcorpus.Fixture("rootfs.tar"), filepath.Join(dir, "rootfs.tar"))
	gone := filepath.Join(dir, "gone.bin")
	os.WriteFile(gone, []byte("this image disappears before it is scanned"), 0o644)
	if _, err := s.Add(ctx, []string{dir}, nil, Scanner()); err != nil {
		t.Fatal(err)
	}
	os.Remove(gone)
	out := t.TempDir()
	work(t, s, out)
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 6 {
		t.Fatalf("%d images", len(imgs))
	}
	for _, im := range imgs {
		switch im.Name {
		case "gone.bin":
			if im.Status != StatusFailed || !strings.Contains(im.Error, "no such file") || im.Attempts != MaxAttempts {
				t.Errorf("vanished image: %+v, want failed after %d attempts with its error", im, MaxAttempts)
			}
		default:
			if im.Status != StatusDone {
				t.Errorf("%s: %s %s, want done with its own report", im.Name, im.Status, im.Error)
				continue
			}
			if _, err := os.Stat(filepath.Join(im.ReportDir, "report.json")); err != nil {
				t.Errorf("%s: %v", im.Name, err)
			}
		}
	}
	// the traversal is reported, and nothing escaped the output folder
	r, err := s.Report(ctx, imgsBy(imgs, "evil-traversal.tar").SHA256)
	if err != nil || r == nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range r.Findings {
		found = found || strings.HasPrefix(f.Rule, "extraction-anomaly/")
	}
	if !found {
		t.Error("evil-traversal.tar: no extraction anomaly reported")
	}
	// the store is still whole: one row per image in every query
	var n int
	s.db.QueryRow(`SELECT COUNT(*) FROM fleet_images`).Scan(&n)
	if n != 6 {
		t.Errorf("%d image rows", n)
	}
}

func imgsBy(imgs []Image, name string) Image {
	for _, im := range imgs {
		if im.Name == name {
			return im
		}
	}
	return Image{}
}

// TestSharedSecretRejudged: an image whose report gains the fleet's
// shared-secret findings ends with exactly the judgement a scan that had
// found them would make. Each fixture of testdata/build-shared.sh is
// scanned again here; compliance.Evaluate is called directly on that
// scan's findings plus the shared ones, with the hints found in its
// unpacked tree; the fleet's report.json must carry the same verdicts,
// notes and PSTI line, and its report.md the same headline and
// compliance section as that report rendered.
func TestSharedSecretRejudged(t *testing.T) {
	s, _ := newStore(t)
	checkSharedRejudged(t, s)
}

// checkSharedRejudged runs the fixtures of build-shared.sh through the
// fleet on s, checks each image's report against a direct judgement and
// returns fleet.json.
func checkSharedRejudged(t *testing.T, s *Store) []byte {
	t.Helper()
	ctx := context.Background()
	a, _ := filepath.Abs("testdata/acme_cam100_1.2.0.sqfs")
	b, _ := filepath.Abs("testdata/globex_router7_2.0.1.ext2")
	if _, err := s.Add(ctx, []string{a, b}, nil, Scanner()); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	work(t, s, filepath.Join(out, "work"))
	rep := filepath.Join(out, "report")
	fl, err := s.WriteReport(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	extra := SharedFindings(fl.Shared)
	for _, im := range fl.Images {
		if len(extra[im.SHA256]) != 2 {
			t.Fatalf("%s: %d shared findings, want 2 (key and hash)", im.Name, len(extra[im.SHA256]))
		}
		// the scan the worker made, made again, with its unpacked tree kept
		res, err := scan.Run(ctx, im.Path, scan.Options{SkipSBOM: true, SkipVulns: true, Jobs: 2, WorkDir: t.TempDir(), KeepWorkDir: true})
		if err != nil {
			t.Fatal(err)
		}
		direct := res.Report
		all := append(slices.Clone(direct.Findings), extra[im.SHA256]...)
		analyzers.SortFindings(all)
		var failed []string
		for _, f := range direct.Analyzers.Failures {
			failed = append(failed, f.Analyzer)
		}
		want := compliance.Evaluate(compliance.Input{
			Findings: all, Ran: direct.Analyzers.Ran, Failed: failed, Layers: direct.Layers,
			Hints: compliance.FindHints(analyzers.NewTarget(direct.Layers)), Coverage: direct.Analyzers.Coverage,
		}, nil)
		direct.Findings = all
		direct.Compliance = &want
		direct.Stats.FindingCount = map[string]int{}
		for _, f := range all {
			direct.Stats.FindingCount[string(f.Severity)]++
		}

		b, err := os.ReadFile(filepath.Join(rep, im.Report, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var got report.Report
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		var wantRT report.Report // want as report.json carries it
		wb, _ := json.Marshal(direct)
		json.Unmarshal(wb, &wantRT)
		if !reflect.DeepEqual(got.Compliance, wantRT.Compliance) {
			gj, _ := json.MarshalIndent(got.Compliance, "", " ")
			wj, _ := json.MarshalIndent(wantRT.Compliance, "", " ")
			t.Errorf("%s: fleet verdicts differ from a direct judgement:\n got %s\nwant %s", im.Name, gj, wj)
		}
		if !reflect.DeepEqual(got.Findings, wantRT.Findings) || !reflect.DeepEqual(got.Stats.FindingCount, wantRT.Stats.FindingCount) {
			gj, _ := json.MarshalIndent(got.Findings, "", " ")
			wj, _ := json.MarshalIndent(wantRT.Findings, "", " ")
			t.Errorf("%s: findings or counts differ from the scan's plus the shared ones: %v %v\n%s\n%s", im.Name, got.Stats.FindingCount, wantRT.Stats.FindingCount, gj, wj)
		}
		// the shared findings are among the evidence of guidelines 1 and 4
		// and of PSTI requirement 1, and the PSTI line counts them
		for _, item := range []struct{ fw, id string }{{"cop", "1"}, {"cop", "4"}, {"psti", "1"}} {
			for _, it := range got.Compliance.Frameworks[item.fw] {
				if it.ID != item.id {
					continue
				}
				for _, f := range extra[im.SHA256] {
					if it.Verdict != compliance.Fail || !slices.Contains(it.Findings, f.ID) {
						t.Errorf("%s: %s %s is %s with %v, want fail with %s", im.Name, item.fw, item.id, it.Verdict, it.Findings, f.ID)
					}
				}
			}
		}
		if got.Compliance.PSTI != want.PSTI || !strings.Contains(got.Compliance.PSTI, "would fail requirement 1") {
			t.Errorf("%s: PSTI line\n got %q\nwant %q", im.Name, got.Compliance.PSTI, want.PSTI)
		}
		// the headline and the compliance section of report.md, as the
		// direct judgement renders them
		md, err := os.ReadFile(filepath.Join(rep, im.Report, "report.md"))
		if err != nil {
			t.Fatal(err)
		}
		var wmd strings.Builder
		if err := report.WriteMarkdown(&wmd, &wantRT); err != nil {
			t.Fatal(err)
		}
		for _, part := range []func(string) string{mdLine("- **Verdict:** "), mdSection("## Compliance", "## Layers"), mdSection("## Findings", "## Components")} {
			if g, w := part(string(md)), part(wmd.String()); g != w || w == "" {
				t.Errorf("%s: report.md differs from the direct judgement's:\n got %s\nwant %s", im.Name, g, w)
			}
		}
	}
	js, err := os.ReadFile(filepath.Join(rep, "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func mdLine(prefix string) func(string) string {
	return func(s string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
}

func mdSection(from, to string) func(string) string {
	return func(s string) string {
		i := strings.Index(s, from)
		j := strings.Index(s, to)
		if i < 0 || j < i {
			return ""
		}
		return s[i:j]
	}
}
