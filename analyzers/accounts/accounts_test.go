package accounts

import (
	"context"
	"errors"
	"fmt"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/md5crypt"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
	"github.com/fwaudit/fwaudit/rules/passwords"
)

// Hashes used below (made with crypt(3)).
const (
	md5Admin       = "$1$aa$hnW8HcW7oE/zKWcRaWfpM."       // "admin"
	md5Operator123 = "$1$opsalt12$pkY5idCuQXRGvuGtUwic//" // "operator123"
	md5Strong      = "$1$strong01$6XAaatj9zrw9XnaHway./." // not in any list
	desAdmin       = "abOV.DfJmdnYw"                      // "admin"
	bcryptAdmin    = "$2b$05$wZtUS5wfwy4VHEUq5vudx.Bb9eOaPu7.dV5JXtM73PRadJBz8spqe"
	slowSecret     = "$6$rounds=50001$slowsalt$wu7U3lhU6wtnfCquRfC/LKhwtFEl.WJY59K3oiwihmCzZBmFd7Bdn0aBTEyUtsasxce5FX.VmBCt8FL68b9xt."
)

func repoRoot() string { return filepath.Join("..", "..") }

func analyze(t testing.TB, opt Options, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New(opt).Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return fs
}

// key summarises a finding as "rule path:line".
func key(f analyzers.Finding) string { return fmt.Sprintf("%s %s:%d", f.Rule, f.Path, f.Line) }

func keys(fs []analyzers.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, key(f))
	}
	sort.Strings(out)
	return out
}

func find(fs []analyzers.Finding, rule, path string, line int) *analyzers.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Path == path && fs[i].Line == line {
			return &fs[i]
		}
	}
	return nil
}

// checkFixtureRootfs asserts the findings for the rootfs of build.sh (see
// testdata/firmware/rootfs.manifest): root md5crypt "admin", support
// sha512crypt "support", old DES "1234", user's strong sha256crypt not
// cracked, empty password for "empty" (shadow) and "guest" (passwd), locked
// daemon/ftp/admin/nobody silent, and /etc/shadow- reported on its own.
func checkFixtureRootfs(t *testing.T, fs []analyzers.Finding) {
	t.Helper()
	want := []string{
		"default-password /etc/shadow-:1", "default-password /etc/shadow-:5", "default-password /etc/shadow-:7",
		"default-password /etc/shadow:1", "default-password /etc/shadow:5", "default-password /etc/shadow:7",
		"empty-password /etc/passwd:5", "empty-password /etc/shadow-:8", "empty-password /etc/shadow:8",
	}
	if got := keys(fs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct {
		line      int
		user, pw  string
		kind, why string
	}{
		{1, "root", "admin", "md5crypt", "rank 1 in the default-password list"},
		{5, "support", "support", "sha512crypt", "in the default-password list"},
		{7, "old", "1234", "des", "rank 6 in the default-password list"},
	} {
		for _, p := range []string{"/etc/shadow", "/etc/shadow-"} {
			f := find(fs, RuleDefaultPassword, p, c.line)
			// guidelines 1 (no universal default passwords) and 4 (credentials
			// stored in the software), from rules/builtin/builtin.yaml
			if f.Severity != analyzers.Critical || f.Category != Category || !slices.Equal(f.Guidelines, []int{1, 4}) {
				t.Errorf("%s: severity/category/guidelines = %s/%s/%v", key(*f), f.Severity, f.Category, f.Guidelines)
			}
			wantEv := fmt.Sprintf("%s = %q (%s hash ", c.user, c.pw, c.kind)
			if !strings.HasPrefix(f.Evidence, wantEv) || !strings.Contains(f.Evidence, c.why) {
				t.Errorf("%s: evidence %q; want user %s, kind %s, password %q, %q", key(*f), f.Evidence, c.user, c.kind, c.pw, c.why)
			}
			if f.Layer == "" || !strings.Contains(f.Message, f.Layer) || !strings.Contains(f.Message, p) || !strings.Contains(f.Message, fmt.Sprintf("line %d", c.line)) {
				t.Errorf("%s: message lacks layer/path/line: %q", key(*f), f.Message)
			}
		}
	}
	// The same hash in shadow and shadow- has one fingerprint; the hash
	// itself never appears in clear.
	a, b := find(fs, RuleDefaultPassword, "/etc/shadow", 1), find(fs, RuleDefaultPassword, "/etc/shadow-", 1)
	if a.Fingerprint == "" || a.Fingerprint != b.Fingerprint {
		t.Errorf("fingerprints %q / %q, want equal and set", a.Fingerprint, b.Fingerprint)
	}
	for _, f := range fs {
		if strings.Contains(f.Evidence, "$1$fwaudit1$KzEBUhgDBHUpNHrZquX1T/") || strings.Contains(f.Message, "KzEBUh") {
			t.Errorf("%s: full hash in the finding", key(f))
		}
	}
	if f := find(fs, RuleEmptyPassword, "/etc/shadow", 8); !strings.Contains(f.Evidence, `"empty"`) || !strings.Contains(f.Evidence, "/bin/sh") || !strings.Contains(f.Evidence, "/etc/passwd line 9") {
		t.Errorf("empty-password evidence %q; want user, shell and passwd line", f.Evidence)
	}
}

func TestFixtureRootfsTar(t *testing.T) {
	img := filepath.Join(repoRoot(), "testdata", "firmware", "rootfs.tar")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	checkFixtureRootfs(t, analyze(t, Options{}, testcorpus.ExtractTarget(t, img)))
}

func TestFixtureSquashfs(t *testing.T) {
	if _, ok := extract.Lookup("squashfs"); !ok {
		t.Skip("squashfs format not registered yet")
	}
	img := filepath.Join(repoRoot(), "testdata", "firmware", "sqfs-gzip.img")
	fs := analyze(t, Options{}, testcorpus.ExtractTarget(t, img))
	checkFixtureRootfs(t, fs)
	for _, f := range fs {
		if !strings.HasPrefix(f.Layer, "squashfs@") {
			t.Errorf("%s: layer %q, want the squashfs layer", key(f), f.Layer)
		}
	}
}

// nested.tar.gz > squashfs > cpio.gz carries root's md5crypt "password".
func TestFixtureNested(t *testing.T) {
	img := filepath.Join(repoRoot(), "testdata", "firmware", "nested.tar.gz")
	fs := analyze(t, Options{}, testcorpus.ExtractTarget(t, img))
	var hit *analyzers.Finding
	for i := range fs {
		if fs[i].Rule == RuleDefaultPassword && strings.Contains(fs[i].Evidence, `= "password"`) {
			hit = &fs[i]
		}
	}
	if hit == nil {
		t.Fatalf("nested root password not reported; findings: %v", keys(fs))
	}
	if hit.Path != "/etc/shadow" || !strings.Contains(hit.Layer, "cpio") || !strings.HasPrefix(hit.Evidence, "root = ") {
		t.Errorf("nested finding %s in layer %q, evidence %q", key(*hit), hit.Layer, hit.Evidence)
	}
}

// The TP-Link WR841N v10 image's /etc/shadow has root's md5crypt hash of the
// vendor default. (It is "sohoadmin" in this image — checked with
// unsquashfs and crypt(3) — not "5up", the default of other TP-Link models.)
func TestTPLinkWR841N(t *testing.T) {
	img := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	if _, ok := extract.Lookup("squashfs"); !ok {
		t.Skip("squashfs format not registered yet (extract/squashfs.go): cannot reach the TP-Link root filesystem")
	}
	tg := testcorpus.ExtractTarget(t, img)
	rootFinding := func(t *testing.T, fs []analyzers.Finding) analyzers.Finding {
		t.Helper()
		for _, f := range fs {
			if f.Rule == RuleDefaultPassword && f.Path == "/etc/shadow" && strings.HasPrefix(f.Evidence, "root = ") {
				return f
			}
		}
		t.Fatalf("root's vendor default not reported; findings: %v", keys(fs))
		return analyzers.Finding{}
	}
	// The analyzer reaches, parses and cracks the real file.
	t.Run("analyzer", func(t *testing.T) {
		list := []string{"admin", "5up", "sohoadmin"}
		f := rootFinding(t, analyze(t, Options{Passwords: list}, tg))
		if f.Severity != analyzers.Critical || !strings.Contains(f.Evidence, `root = "sohoadmin" (md5crypt hash $1$`) || !strings.Contains(f.Evidence, "rank 3 in the password list") || f.Line != 1 {
			t.Errorf("TP-Link root finding: %s line %d %q", f.Severity, f.Line, f.Evidence)
		}
		if !strings.Contains(f.Layer, "squashfs@") {
			t.Errorf("layer %q, want the squashfs layer", f.Layer)
		}
	})
	// The built-in dictionary knows TP-Link's default.
	t.Run("default list", func(t *testing.T) {
		if !slices.Contains(passwords.Defaults(), "sohoadmin") {
			t.Fatalf("rules/passwords/defaults.txt lacks \"sohoadmin\", the root password of this TP-Link image (EXPECTED.md: a good default-password dictionary cracks it)")
		}
		f := rootFinding(t, analyze(t, Options{}, tg))
		if f.Severity != analyzers.Critical || !strings.Contains(f.Evidence, `root = "sohoadmin" (md5crypt hash`) || !strings.Contains(f.Evidence, "in the default-password list") {
			t.Errorf("TP-Link root finding: %s %q", f.Severity, f.Evidence)
		}
	})
}

// IoTGoat's /etc/shadow has iotgoatuser with a Mirai-list password;
// /etc/shadow.bak (root only, different hash) is parsed but its root hash,
// like root's in /etc/shadow, is not in the list.
func TestIoTGoatOverlay(t *testing.T) {
	src := testcorpus.Shared(t, "iotgoat-overlay")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir))
	if got := strings.Join(keys(fs), ","); got != "default-password /etc/shadow:8" {
		t.Fatalf("findings %s, want iotgoatuser in /etc/shadow line 8 only", got)
	}
	if f := fs[0]; !strings.HasPrefix(f.Evidence, `iotgoatuser = "7ujMko0vizxv" (md5crypt hash $1$`) || !strings.Contains(f.Evidence, "in the default-password list") || !strings.Contains(f.Message, "/bin/ash") {
		t.Errorf("evidence %q / message %q", f.Evidence, f.Message)
	}
}

func TestLockedAndUnknownAreSilent(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nbob:x:1:1::/home/bob:/bin/sh\n",
		"etc/shadow": strings.Join([]string{
			"root:*:16503:0:99999:7:::",
			"bob:!" + md5Admin + ":16503:0:99999:7:::", // locked hash of "admin"
			"carol:!!:16503:0:99999:7:::",
			"dave:$9$notahash$xyz:16503:0:99999:7:::",
			"erin:" + md5Strong + ":16503:0:99999:7:::",
			"frank:x:16503:0:99999:7:::",
			"+::::::::",
			"# admin::0:0:99999:7:::",
		}, "\n"),
	})
	if fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir)); len(fs) != 0 {
		t.Fatalf("want no findings, got %v", keys(fs))
	}
}

func TestEmptyPassword(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/passwd": strings.Join([]string{
			"root:x:0:0:root:/root:/bin/sh",
			"daemon:x:1:1:daemon:/:/bin/false",
			"halt:x:7:0:halt:/sbin:/sbin/halt",
			"guest::100:100::/home/guest:/bin/sh",
			"svc::101:101::/:/usr/sbin/nologin",
			"locked:!:102:102::/:/bin/sh",
			"bbx:*:103:103::/:/bin/sh",
		}, "\n"),
		"etc/shadow": strings.Join([]string{
			"root::16503:0:99999:7:::",   // login: reported
			"daemon::16503:0:99999:7:::", // /bin/false: silent
			"halt::16503:0:99999:7:::",   // halt: silent
			"locked::16503:0:99999:7:::", // passwd field "!" governs: silent
			"ghost::16503:0:99999:7:::",  // no passwd entry: treated as login
			"bbx::16503:0:99999:7:::",    // BusyBox reads shadow for "*": reported
		}, "\n"),
		// a shadow with no passwd next to it or in /etc: treated as login
		"opt/app/shadow": "app::16503:0:99999:7:::\n",
	})
	fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir))
	want := "empty-password /etc/passwd:4\nempty-password /etc/shadow:1\nempty-password /etc/shadow:5\nempty-password /etc/shadow:6\nempty-password /opt/app/shadow:1"
	if got := strings.Join(keys(fs), "\n"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	for _, f := range fs {
		if f.Severity != analyzers.Critical || f.Guidelines[0] != 1 || f.Fingerprint == "" {
			t.Errorf("%s: %s %v %q", key(f), f.Severity, f.Guidelines, f.Fingerprint)
		}
	}
}

// opt/app/shadow has svc, which in /etc/passwd has nologin: the lookup must
// use the shadow's own folder first, then /etc/passwd.
func TestShellLookupFallsBackToEtcPasswd(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/passwd":     "svc:x:101:101::/:/usr/sbin/nologin\nroot:x:0:0::/root:/bin/sh\n",
		"opt/app/shadow": "svc::16503:0:99999:7:::\nroot::16503:0:99999:7:::\n",
		"opt/app/passwd": "root:x:0:0::/root:/bin/false\n", // same folder wins for root
		"etc/shadow-":    "root::16503:0:99999:7:::\n",
		"etc/passwd-":    "root:x:0:0::/root:/bin/false\n", // matching backup wins
	})
	fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir))
	if len(fs) != 0 {
		t.Fatalf("want no findings, got %v", keys(fs))
	}
}

func TestHashInPasswdAndUserGuesses(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/passwd": strings.Join([]string{
			"admin:" + md5Admin + ":0:0:admin:/:/bin/sh",
			"operator:" + md5Operator123 + ":1:1::/:/bin/false",
			"old:" + desAdmin + ":2:2::/:/bin/sh",
		}, "\n"),
	})
	fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir))
	if got := strings.Join(keys(fs), ","); got != "default-password /etc/passwd:1,default-password /etc/passwd:2,default-password /etc/passwd:3" {
		t.Fatalf("got %s", got)
	}
	if f := find(fs, RuleDefaultPassword, "/etc/passwd", 2); !strings.HasPrefix(f.Evidence, `operator = "operator123" (md5crypt hash`) || !strings.HasSuffix(f.Evidence, "— the user name followed by 123") || !strings.Contains(f.Message, "/bin/false") {
		t.Errorf("user-derived evidence %q / message %q", f.Evidence, f.Message)
	}
	if f := find(fs, RuleDefaultPassword, "/etc/passwd", 3); !strings.Contains(f.Evidence, `= "admin" (des hash`) {
		t.Errorf("DES evidence %q", f.Evidence)
	}
}

func TestSlowCap(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/shadow": "root:" + slowSecret + ":1:0:99999:7:::\nadmin:" + bcryptAdmin + ":1:0:99999:7:::\n",
	})
	list := []string{"admin", "b", "c", "secret"}
	tg := testcorpus.DirTarget(t, dir)
	// admin (bcrypt) is rank 1: found; "secret" is rank 4, past the cap of 2
	// for a slow sha512crypt (rounds=50001): not tried.
	fs := analyze(t, Options{Passwords: list, SlowCap: 2}, tg)
	if got := strings.Join(keys(fs), ","); got != "default-password /etc/shadow:2" {
		t.Fatalf("SlowCap 2: got %s", got)
	}
	if !strings.Contains(fs[0].Evidence, `= "admin" (bcrypt hash`) || !strings.Contains(fs[0].Evidence, "rank 1 in the password list") {
		t.Errorf("custom-list evidence %q", fs[0].Evidence)
	}
	fs = analyze(t, Options{Passwords: list, SlowCap: 4}, tg)
	if got := strings.Join(keys(fs), ","); got != "default-password /etc/shadow:1,default-password /etc/shadow:2" {
		t.Fatalf("SlowCap 4: got %s", got)
	}
}

func TestNonFilesystemLayersIgnored(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"etc/shadow": "root:" + md5Admin + ":1:0:99999:7:::\n"})
	l := &extract.Layer{ID: "L1", Path: "gzip@0x0", Kind: "stream", Root: dir}
	fs := analyze(t, Options{}, analyzers.NewTarget([]*extract.Layer{l}))
	if len(fs) != 0 {
		t.Fatalf("stream layer scanned: %v", keys(fs))
	}
}

func TestELFNamedPasswdIgnoredAndBigFileBounded(t *testing.T) {
	big := strings.Repeat("junk line without colons\n", ReadBound/25+10) + "root:" + md5Admin + ":1:0:99999:7:::\n"
	dir := testcorpus.Tree(t, map[string]string{
		"usr/bin/passwd": "\x7fELF\x01\x01\x01\x00root::0:0:root:/root:/bin/sh\n",
		"etc/shadow":     "root:" + md5Admin + ":1:0:99999:7:::\n" + big,
	})
	fs, err := New(Options{}).Analyze(context.Background(), testcorpus.DirTarget(t, dir))
	if got := strings.Join(keys(fs), ","); got != "default-password /etc/shadow:1" {
		t.Fatalf("got %s (the ELF must be skipped, the line past 1 MiB unread)", got)
	}
	// the bound that left lines unread is reported, never silent
	if err == nil || !strings.Contains(err.Error(), "limit reached") || !strings.Contains(err.Error(), "/etc/shadow") {
		t.Errorf("err = %v, want the read bound reported", err)
	}
}

// Identical hashes in several files and layers are cracked once and each
// occurrence is reported.
func TestDedupAcrossLayers(t *testing.T) {
	d1 := testcorpus.Tree(t, map[string]string{"etc/shadow": "root:" + md5Admin + ":1:0:99999:7:::\n", "etc/shadow.bak": "x:1\nroot:" + md5Admin + ":1:0:99999:7:::\n"})
	d2 := testcorpus.Tree(t, map[string]string{"etc/shadow": "root:" + md5Admin + ":1:0:99999:7:::\n"})
	tg := analyzers.NewTarget([]*extract.Layer{
		{ID: "L1", Path: "a", Kind: "filesystem", Root: d1},
		{ID: "L2", Path: "b", Kind: "filesystem", Root: d2},
	})
	fs := analyze(t, Options{}, tg)
	var got []string
	for _, f := range fs {
		got = append(got, f.Layer+" "+key(f))
	}
	sort.Strings(got)
	want := "a default-password /etc/shadow.bak:2,a default-password /etc/shadow:1,b default-password /etc/shadow:1"
	if strings.Join(got, ",") != want {
		t.Fatalf("got %s", strings.Join(got, ","))
	}
	// one crack job per distinct hash
	a := New(Options{}).(*analyzer)
	occ := []occurrence{{e: entry{User: "zz9user"}}, {e: entry{User: "zz9user"}}, {e: entry{User: "root"}}}
	c := a.candidates(md5Admin, occ)
	if len(c) != len(a.list)+2 || c[len(c)-2] != "zz9user" || c[len(c)-1] != "zz9user123" { // root and root123 are in the list
		t.Errorf("candidates: %d (tail %q), want %d", len(c), c[len(c)-2:], len(a.list)+2)
	}
	if c := a.candidates(bcryptAdmin, nil); len(c) != 50 {
		t.Errorf("slow candidates: %d, want SlowCap 50", len(c))
	}
}

func TestCancel(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"etc/shadow": "root:" + slowSecret + ":1:0:99999:7:::\n"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New(Options{SlowCap: 1000}).Analyze(ctx, testcorpus.DirTarget(t, dir))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestMaxHashes(t *testing.T) {
	var lines []string
	for _, h := range []string{md5Admin, md5Strong, md5Operator123} {
		lines = append(lines, "u"+fmt.Sprint(len(lines))+":"+h+":1:0:99999:7:::")
	}
	dir := testcorpus.Tree(t, map[string]string{"etc/shadow": strings.Join(lines, "\n")})
	fs, err := New(Options{MaxHashes: 1}).Analyze(context.Background(), testcorpus.DirTarget(t, dir))
	if err == nil || !strings.Contains(err.Error(), "2 were not checked") {
		t.Fatalf("err = %v, want a not-checked error", err)
	}
	if len(fs) != 1 || !strings.Contains(fs[0].Evidence, `"admin"`) {
		t.Fatalf("findings %v", keys(fs))
	}
}

// symlinked /etc/passwd is followed inside the layer for the shell lookup.
func TestShellLookupFollowsSymlink(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{
		"etc/shadow":       "daemon::1:0:99999:7:::\n",
		"usr/etc/passwd.d": "daemon:x:1:1::/:/bin/false\n",
	})
	if err := os.Symlink("../usr/etc/passwd.d", filepath.Join(dir, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if fs := analyze(t, Options{}, testcorpus.DirTarget(t, dir)); len(fs) != 0 {
		t.Fatalf("want the nologin shell found through the symlink, got %v", keys(fs))
	}
}

func md5Hash(tb testing.TB, pw string) string {
	h, err := md5crypt.New()
	if err != nil {
		tb.Fatal(err)
	}
	d, err := h.Hash(pw)
	if err != nil {
		tb.Fatal(err)
	}
	return d.Encode()
}

func BenchmarkCrackMD5(b *testing.B) {
	list := passwords.Defaults()
	last := list[len(list)-1]
	hash := md5Hash(b, last)
	dir := testcorpus.Tree(b, map[string]string{"etc/shadow": "zz:" + hash + ":1:0:99999:7:::\n"})
	tg := testcorpus.DirTarget(b, dir)
	a := New(Options{})
	b.ResetTimer()
	for b.Loop() {
		fs, err := a.Analyze(context.Background(), tg)
		if err != nil || len(fs) != 1 || !strings.Contains(fs[0].Evidence, fmt.Sprintf("%q", last)) {
			b.Fatalf("got %v %v", fs, err)
		}
	}
	b.ReportMetric(float64(len(list)), "candidates/op")
}

func BenchmarkAnalyze(b *testing.B) {
	img := filepath.Join(repoRoot(), "testdata", "firmware", "rootfs.tar")
	tg := testcorpus.ExtractTarget(b, img)
	a := New(Options{})
	b.ResetTimer()
	for b.Loop() {
		fs, err := a.Analyze(context.Background(), tg)
		if err != nil || len(fs) != 9 {
			b.Fatalf("got %d findings, %v", len(fs), err)
		}
	}
}
