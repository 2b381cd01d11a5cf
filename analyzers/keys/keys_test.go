package keys

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// dirTarget builds a Target over files (path → content) laid out like a
// file-system layer.
func dirTarget(t testing.TB, files map[string]string) *analyzers.Target {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		host := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

func analyze(t testing.TB, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New().Analyze(context.Background(), tg)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	for i := range fs {
		fs[i].SetID()
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Path != fs[j].Path {
			return fs[i].Path < fs[j].Path
		}
		return fs[i].Line < fs[j].Line
	})
	return fs
}

func summary(fs []analyzers.Finding) string {
	var sb strings.Builder
	for _, f := range fs {
		off := ""
		if f.Offset != nil {
			off = fmt.Sprintf("@%d", *f.Offset)
		}
		fmt.Fprintf(&sb, "%s %s %s:%d%s %s\n", f.Rule, f.Severity, f.Path, f.Line, off, f.Evidence)
	}
	return sb.String()
}

// only returns the single finding for path, failing otherwise.
func only(t *testing.T, fs []analyzers.Finding, path string) analyzers.Finding {
	t.Helper()
	var got []analyzers.Finding
	for _, f := range fs {
		if f.Path == path {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%s: want 1 finding, got %d:\n%s", path, len(got), summary(fs))
	}
	return got[0]
}

// noSecret fails if any 16-character piece of a PEM body shows up in the
// finding.
func noSecret(t *testing.T, f analyzers.Finding, pemText string) {
	t.Helper()
	out := f.Evidence + f.Message
	for _, line := range strings.Split(pemText, "\n") {
		if strings.HasPrefix(line, "-----") || strings.Contains(line, ":") || len(line) < 32 {
			continue
		}
		for i := 0; i+16 <= len(line); i += 8 {
			if strings.Contains(out, line[i:i+16]) {
				t.Fatalf("finding leaks key material %q: %s", line[i:i+16], out)
			}
		}
	}
}

func TestPEMKeys(t *testing.T) {
	k := keysForTest(t)
	files := map[string]string{
		"/etc/ssl/pkcs1.pem":     "# server key\n\n" + pkcs1PEM(k.rsa),
		"/etc/ssl/pkcs8-rsa.key": pkcs8PEM(t, k.rsa2),
		"/etc/ssl/pkcs8-ec.key":  pkcs8PEM(t, k.ec384),
		"/etc/ssl/pkcs8-ed.key":  pkcs8PEM(t, k.ed),
		"/etc/ssl/sec1.pem":      "line1\nline2\nline3\n" + sec1PEM(t, k.ec),
		"/etc/ssl/dsa.pem":       pemOf("DSA PRIVATE KEY", dsaDERBytes(t, k.dsa)),
		"/root/.ssh/id_ed25519":  openSSHPEM(t, k.ed, ""),
		"/root/.ssh/id_ecdsa":    openSSHPEM(t, k.ec, ""),
		"/root/.ssh/id_rsa":      openSSHPEM(t, k.rsa2, ""),
	}
	fs := analyze(t, dirTarget(t, files))
	if len(fs) != len(files) {
		t.Fatalf("want %d findings, got %d:\n%s", len(files), len(fs), summary(fs))
	}
	cases := []struct {
		path, size, format string
		pub                any
		line               int
	}{
		{"/etc/ssl/pkcs1.pem", "RSA 1024 bits", "PKCS#1 PEM", &k.rsa.PublicKey, 3},
		{"/etc/ssl/pkcs8-rsa.key", "RSA 1024 bits", "PKCS#8 PEM", &k.rsa2.PublicKey, 1},
		{"/etc/ssl/pkcs8-ec.key", "ECDSA P-384", "PKCS#8 PEM", &k.ec384.PublicKey, 1},
		{"/etc/ssl/pkcs8-ed.key", "Ed25519", "PKCS#8 PEM", k.ed.Public(), 1},
		{"/etc/ssl/sec1.pem", "ECDSA P-256", "SEC 1 PEM", &k.ec.PublicKey, 4},
		{"/etc/ssl/dsa.pem", "DSA 1024 bits", "OpenSSL DSA PEM", &k.dsa.PublicKey, 1},
		{"/root/.ssh/id_ed25519", "Ed25519", "OpenSSH", k.ed.Public(), 1},
		{"/root/.ssh/id_ecdsa", "ECDSA P-256", "OpenSSH", &k.ec.PublicKey, 1},
		{"/root/.ssh/id_rsa", "RSA 1024 bits", "OpenSSH", &k.rsa2.PublicKey, 1},
	}
	for _, c := range cases {
		f := only(t, fs, c.path)
		if f.Rule != RulePrivateKey || f.Severity != analyzers.High || f.Category != Category {
			t.Errorf("%s: rule %s severity %s category %s", c.path, f.Rule, f.Severity, f.Category)
		}
		if f.Line != c.line || f.Offset != nil {
			t.Errorf("%s: line %d offset %v, want line %d", c.path, f.Line, f.Offset, c.line)
		}
		fp := sshFP(t, c.pub)
		if !strings.Contains(f.Evidence, c.size+", "+c.format+", unencrypted, "+fp) {
			t.Errorf("%s: evidence %q, want %q, %q and %s", c.path, f.Evidence, c.size, c.format, fp)
		}
		if !strings.HasPrefix(f.Evidence, "-----BEGIN ") {
			t.Errorf("%s: evidence should start with the BEGIN line: %q", c.path, f.Evidence)
		}
		if want := fpHex(t, c.pub); f.Fingerprint != want {
			t.Errorf("%s: fingerprint %s, want %s", c.path, f.Fingerprint, want)
		}
		if fmt.Sprint(f.Guidelines) != "[4 5]" {
			t.Errorf("%s: guidelines %v", c.path, f.Guidelines)
		}
		noSecret(t, f, files[c.path])
	}
	// the same key in PKCS#8 and OpenSSH form is recognised as one key
	a, b := only(t, fs, "/etc/ssl/pkcs8-rsa.key"), only(t, fs, "/root/.ssh/id_rsa")
	if a.Fingerprint != b.Fingerprint || !strings.Contains(a.Message, "L1:/root/.ssh/id_rsa") {
		t.Errorf("same key not cross-referenced:\n%s\n%s", a.Message, b.Message)
	}
}

// fpHex is the expected Finding.Fingerprint: the first 16 hex digits of
// the SHA-256 of the SSH wire-format public key.
func fpHex(t testing.TB, pub any) string {
	return analyzers.Fingerprint(string(sshPubBlob(t, pub)))
}

func TestEncryptedKeysAreLow(t *testing.T) {
	k := keysForTest(t)
	files := map[string]string{
		"/etc/legacy.pem":   legacyEncryptedPEM(t, k.rsa),
		"/etc/pkcs8enc.pem": encryptedPKCS8PEM(t),
		"/etc/id_ed25519":   openSSHPEM(t, k.ed, "hunter2"),
		"/etc/id_rsa":       openSSHPEM(t, k.rsa, "hunter2"),
	}
	fs := analyze(t, dirTarget(t, files))
	if len(fs) != len(files) {
		t.Fatalf("want %d findings, got:\n%s", len(files), summary(fs))
	}
	for p := range files {
		f := only(t, fs, p)
		if f.Rule != RuleEncrypted || f.Severity != analyzers.Low {
			t.Errorf("%s: %s %s, want %s low", p, f.Rule, f.Severity, RuleEncrypted)
		}
		if len(f.Fingerprint) != 16 {
			t.Errorf("%s: fingerprint %q", p, f.Fingerprint)
		}
		noSecret(t, f, files[p])
	}
	if f := only(t, fs, "/etc/legacy.pem"); !strings.Contains(f.Evidence, "AES-256-CBC") || !strings.Contains(f.Evidence, "RSA") {
		t.Errorf("legacy evidence: %s", f.Evidence)
	}
	if f := only(t, fs, "/etc/pkcs8enc.pem"); !strings.Contains(f.Evidence, "PBES2 AES-256-CBC") {
		t.Errorf("pkcs8 evidence: %s", f.Evidence)
	}
	// OpenSSH keeps the public key in clear: the fingerprint is the key's
	f := only(t, fs, "/etc/id_ed25519")
	if fp := sshFP(t, k.ed.Public()); !strings.Contains(f.Evidence, fp) || f.Fingerprint != fpHex(t, k.ed.Public()) {
		t.Errorf("encrypted OpenSSH key fingerprint: %s / %s, want %s", f.Evidence, f.Fingerprint, fp)
	}
	if !strings.Contains(f.Evidence, "aes256-ctr, bcrypt") {
		t.Errorf("cipher not named: %s", f.Evidence)
	}
	if f := only(t, fs, "/etc/id_rsa"); !strings.Contains(f.Evidence, "RSA 1024 bits") {
		t.Errorf("encrypted OpenSSH RSA: %s", f.Evidence)
	}
}

func TestDropbearKeys(t *testing.T) {
	k := keysForTest(t)
	files := map[string]string{
		"/etc/dropbear/dropbear_rsa_host_key":     string(dropbearRSA(k.rsa, true)),
		"/etc/dropbear/old_rsa_key":               string(dropbearRSA(k.rsa2, false)),
		"/etc/dropbear/dropbear_dss_host_key":     string(dropbearDSS(k.dsa)),
		"/etc/dropbear/dropbear_ecdsa_host_key":   string(dropbearECDSA(t, k.ec)),
		"/etc/dropbear/dropbear_ecdsa384":         string(dropbearECDSA(t, k.ec384)),
		"/etc/dropbear/dropbear_ed25519_host_key": string(dropbearEd25519(k.ed)),
	}
	fs := analyze(t, dirTarget(t, files))
	if len(fs) != len(files) {
		t.Fatalf("want %d findings, got:\n%s", len(files), summary(fs))
	}
	want := map[string]struct {
		size string
		pub  any
	}{
		"/etc/dropbear/dropbear_rsa_host_key":     {"RSA 1024 bits", &k.rsa.PublicKey},
		"/etc/dropbear/old_rsa_key":               {"RSA 1024 bits", &k.rsa2.PublicKey},
		"/etc/dropbear/dropbear_dss_host_key":     {"DSA 1024 bits", &k.dsa.PublicKey},
		"/etc/dropbear/dropbear_ecdsa_host_key":   {"ECDSA P-256", &k.ec.PublicKey},
		"/etc/dropbear/dropbear_ecdsa384":         {"ECDSA P-384", &k.ec384.PublicKey},
		"/etc/dropbear/dropbear_ed25519_host_key": {"Ed25519", k.ed.Public()},
	}
	for p, w := range want {
		f := only(t, fs, p)
		if f.Rule != RuleDropbear || f.Severity != analyzers.High {
			t.Errorf("%s: %s %s", p, f.Rule, f.Severity)
		}
		if f.Offset == nil || *f.Offset != 0 || f.Line != 0 {
			t.Errorf("%s: want offset 0, got line %d offset %v", p, f.Line, f.Offset)
		}
		if !strings.Contains(f.Evidence, w.size+", dropbear") || !strings.Contains(f.Evidence, sshFP(t, w.pub)) {
			t.Errorf("%s: evidence %s, want %s and %s", p, f.Evidence, w.size, sshFP(t, w.pub))
		}
		if f.Fingerprint != fpHex(t, w.pub) || !strings.Contains(f.Message, "SSH host key") {
			t.Errorf("%s: fingerprint %s message %s", p, f.Fingerprint, f.Message)
		}
	}
}

func TestDropbearBadNumbersSilent(t *testing.T) {
	k := keysForTest(t)
	bad := dropbearRSA(k.rsa, false)
	bad = append(bad[:len(bad)-2], bad[len(bad)-2]^1, bad[len(bad)-1]) // flip a bit of d
	wrongPQ := cat(dropbearRSA(k.rsa, false), sshMpint(k.rsa2.Primes[0]), sshMpint(k.rsa2.Primes[1]))
	pubOnly := cat(sshString([]byte("ssh-rsa")), sshMpint(bigE(k.rsa.E)), sshMpint(k.rsa.N))
	ed := dropbearEd25519(k.ed)
	ed[len(ed)-1] ^= 1 // public half no longer matches the seed
	ec := dropbearECDSA(t, k.ec)
	ec[len(ec)-1] ^= 1
	files := map[string]string{
		"/etc/bad_d":     string(bad),
		"/etc/wrong_pq":  string(wrongPQ),
		"/etc/pub_only":  string(pubOnly) + "\x00\x00\x00\x00",
		"/etc/bad_ed":    string(ed),
		"/etc/bad_ecdsa": string(ec),
		"/etc/truncated": string(dropbearRSA(k.rsa, true)[:200]),
	}
	if fs := analyze(t, dirTarget(t, files)); len(fs) != 0 {
		t.Fatalf("want no findings, got:\n%s", summary(fs))
	}
}

func TestPuTTY(t *testing.T) {
	k := keysForTest(t)
	files := map[string]string{
		"/home/u/rsa.ppk":  ppkRSA(t, k.rsa),
		"/home/u/ed.ppk":   "\r\n" + strings.ReplaceAll(ppkEd25519(t, k.ed), "\n", "\r\n"),
		"/home/u/ec.ppk":   ppkECDSA(t, k.ec),
		"/home/u/enc2.ppk": ppkEncrypted(t, "2", k.rsa2),
		"/home/u/enc3.ppk": ppkEncrypted(t, "3", k.rsa),
		"/home/u/mismatch.ppk": ppk("2", "ssh-rsa", "none", sshPubBlob(t, &k.rsa2.PublicKey),
			cat(sshMpint(k.rsa.D), sshMpint(k.rsa.Primes[0]), sshMpint(k.rsa.Primes[1]), sshMpint(k.rsa.Primes[0]))),
		"/home/u/cut.ppk": ppkRSA(t, k.rsa)[:400],
	}
	fs := analyze(t, dirTarget(t, files))
	if len(fs) != 5 {
		t.Fatalf("want 5 findings, got:\n%s", summary(fs))
	}
	for p, w := range map[string]struct {
		sev  analyzers.Severity
		size string
		pub  any
		line int
	}{
		"/home/u/rsa.ppk":  {analyzers.High, "RSA 1024 bits, PuTTY v2, unencrypted", &k.rsa.PublicKey, 1},
		"/home/u/ed.ppk":   {analyzers.High, "Ed25519, PuTTY v3, unencrypted", k.ed.Public(), 2},
		"/home/u/ec.ppk":   {analyzers.High, "ECDSA P-256, PuTTY v3, unencrypted", &k.ec.PublicKey, 1},
		"/home/u/enc2.ppk": {analyzers.Low, "RSA 1024 bits, PuTTY v2, encrypted (aes256-cbc)", &k.rsa2.PublicKey, 1},
		"/home/u/enc3.ppk": {analyzers.Low, "RSA 1024 bits, PuTTY v3, encrypted (aes256-cbc, Argon2id)", &k.rsa.PublicKey, 1},
	} {
		f := only(t, fs, p)
		if f.Rule != RulePuTTY || f.Severity != w.sev || f.Line != w.line {
			t.Errorf("%s: %s %s line %d", p, f.Rule, f.Severity, f.Line)
		}
		if !strings.Contains(f.Evidence, w.size) || !strings.Contains(f.Evidence, sshFP(t, w.pub)) || f.Fingerprint != fpHex(t, w.pub) {
			t.Errorf("%s: evidence %s (fp %s), want %q", p, f.Evidence, f.Fingerprint, w.size)
		}
		noSecret(t, f, files[p])
	}
}

func TestPKCS12(t *testing.T) {
	read := func(n string) string {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	fs := analyze(t, dirTarget(t, map[string]string{
		"/etc/empty.p12":  read("test-only-empty-password.p12"),
		"/etc/secret.p12": read("test-only-password-secret.p12"),
		"/etc/aes.p12":    read("test-only-aes-password-secret.p12"),
	}))
	if len(fs) != 3 {
		t.Fatalf("want 3 findings, got:\n%s", summary(fs))
	}
	f := only(t, fs, "/etc/empty.p12")
	const fp = "SHA256:7O8f1AIblJzYT0Vdu0PbEKiysmtprVQeejkK4G11INU" // ssh-keygen -l, see testdata/README.md
	if f.Rule != RulePKCS12NoPassword || f.Severity != analyzers.High || !strings.Contains(f.Evidence, "RSA 1024 bits, PKCS#12, unencrypted, "+fp) {
		t.Errorf("empty.p12: %s %s %s", f.Rule, f.Severity, f.Evidence)
	}
	for _, p := range []string{"/etc/secret.p12", "/etc/aes.p12"} {
		f := only(t, fs, p)
		if f.Rule != RuleEncrypted || f.Severity != analyzers.Low || !strings.Contains(f.Evidence, "PKCS#12") {
			t.Errorf("%s: %s %s %s", p, f.Rule, f.Severity, f.Evidence)
		}
	}
	if f := only(t, fs, "/etc/secret.p12"); !strings.Contains(f.Evidence, "password-protected") {
		t.Errorf("secret.p12: %s", f.Evidence)
	}
}

func TestJKS(t *testing.T) {
	k := keysForTest(t)
	fs := analyze(t, dirTarget(t, map[string]string{
		"/opt/app/default.jks": string(jksFile(t, k.rsa, "changeit")),
		"/opt/app/strong.jks":  string(jksFile(t, k.ec, "a long unguessable password")),
		"/opt/app/cut.jks":     string(jksFile(t, k.rsa, "changeit")[:300]),
	}))
	if len(fs) != 2 {
		t.Fatalf("want 2 findings, got:\n%s", summary(fs))
	}
	f := only(t, fs, "/opt/app/default.jks")
	if f.Rule != RulePrivateKey || f.Severity != analyzers.High || !strings.Contains(f.Evidence, `RSA 1024 bits, JKS keystore, unencrypted, alias "server"`) ||
		!strings.Contains(f.Message, `well-known key password "changeit"`) || f.Fingerprint != fpHex(t, &k.rsa.PublicKey) {
		t.Errorf("default.jks: %s %s %s\n%s", f.Rule, f.Severity, f.Evidence, f.Message)
	}
	f = only(t, fs, "/opt/app/strong.jks")
	if f.Rule != RuleEncrypted || f.Severity != analyzers.Low || !strings.Contains(f.Evidence, "JKS key protector") {
		t.Errorf("strong.jks: %s %s %s", f.Rule, f.Severity, f.Evidence)
	}
}

// binaryWith embeds payloads in a fake ELF with random filler.
func binaryWith(parts ...[]byte) string {
	filler := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	b := append([]byte("\x7fELF\x01\x02\x01\x00"), filler(3000)...)
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, filler(1000)...)
	}
	return string(b)
}

func TestKeysInsideBinaries(t *testing.T) {
	k := keysForTest(t)
	p1 := x509.MarshalPKCS1PrivateKey(k.rsa)
	p8, _ := x509.MarshalPKCS8PrivateKey(k.ed)
	sec1, _ := x509.MarshalECPrivateKey(k.ec)
	bin := binaryWith(
		[]byte("\x00static const char key[] = \x00"+pkcs1PEM(k.rsa2)+"\x00"),
		p1, p8, sec1, dsaDERBytes(t, k.dsa))
	fs := analyze(t, dirTarget(t, map[string]string{"/usr/bin/app": bin}))
	if len(fs) != 5 {
		t.Fatalf("want 5 findings, got:\n%s", summary(fs))
	}
	want := []struct {
		needle string
		pub    any
	}{
		{"-----BEGIN RSA PRIVATE KEY----- — RSA 1024 bits, PKCS#1 PEM", &k.rsa2.PublicKey},
		{"RSA 1024 bits, PKCS#1 DER", &k.rsa.PublicKey},
		{"Ed25519, PKCS#8 DER", k.ed.Public()},
		{"ECDSA P-256, SEC 1 DER", &k.ec.PublicKey},
		{"DSA 1024 bits, OpenSSL DSA DER", &k.dsa.PublicKey},
	}
	sort.Slice(fs, func(i, j int) bool { return *fs[i].Offset < *fs[j].Offset })
	for i, w := range want {
		f := fs[i]
		if f.Rule != RulePrivateKey || f.Severity != analyzers.High || f.Offset == nil || f.Line != 0 {
			t.Errorf("%d: %s %s line %d offset %v", i, f.Rule, f.Severity, f.Line, f.Offset)
		}
		if !strings.Contains(f.Evidence, w.needle) || f.Fingerprint != fpHex(t, w.pub) {
			t.Errorf("%d: evidence %s, want %s", i, f.Evidence, w.needle)
		}
	}
	// offsets point at the key
	raw := []byte(bin)
	if off := *fs[1].Offset; string(raw[off:off+int64(len(p1))]) != string(p1) {
		t.Errorf("offset %d does not point at the DER key", off)
	}
}

// The traps: things that look like keys and are not.
func TestPrecisionTraps(t *testing.T) {
	k := keysForTest(t)
	cert := &x509.Certificate{SerialNumber: bigE(1), NotBefore: time.Now(), NotAfter: time.Now().AddDate(30, 0, 0)}
	certDER, err := x509.CreateCertificate(rand.Reader, cert, cert, &k.ec.PublicKey, k.ec)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	full := pkcs1PEM(k.rsa)
	lines := strings.Split(full, "\n")
	truncated := strings.Join(lines[:len(lines)/2], "\n") + "\n-----END RSA PRIVATE KEY-----\n"
	corrupt := []byte(x509.MarshalPKCS1PrivateKey(k.rsa))
	corrupt[len(corrupt)/2] ^= 0x55
	pubBlob := sshPubBlob(t, &k.rsa.PublicKey)

	files := map[string]string{
		// dropbearmulti: the header literal in format strings, no body
		"/usr/sbin/dropbearmulti": binaryWith(
			[]byte("-----BEGIN RSA PRIVATE KEY-----\n\x00%s\n\x00-----END RSA PRIVATE KEY-----\n\x00"),
			[]byte("ssh-rsa\x00ssh-dss\x00ecdsa-sha2-nistp256\x00ssh-ed25519\x00"),
			pubBlob, // an SSH public key blob (host key announcement)
			[]byte("-----BEGIN OPENSSH PRIVATE KEY-----\x00-----END OPENSSH PRIVATE KEY-----\x00openssh-key-v1\x00")),
		// libcrypto / libbcmssl: templates and header strings, a
		// certificate, a public key, a corrupt PKCS#1 template
		"/lib/libcrypto.so": binaryWith(
			[]byte("-----BEGIN \x00-----END \x00-----\n\x00ANY PRIVATE KEY\x00ENCRYPTED PRIVATE KEY\x00Proc-Type: 4,ENCRYPTED\n\x00DEK-Info: \x00"),
			[]byte("-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----   -----BEGIN RSA PRIVATE KEY-----  -----END RSA PRIVATE KEY-----"),
			certDER, spki, corrupt),
		// a certificate-import web page
		"/webs/certimport.html": `<html><script>
var beginKey = '-----BEGIN RSA PRIVATE KEY-----';
var endKey = '-----END RSA PRIVATE KEY-----';
var beginCert = '-----BEGIN CERTIFICATE-----';
</script>
<textarea name="key" placeholder="-----BEGIN RSA PRIVATE KEY-----&#10;MIIE...&#10;-----END RSA PRIVATE KEY-----"></textarea>
<textarea name="key2">-----BEGIN PRIVATE KEY-----
paste your private key here
-----END PRIVATE KEY-----</textarea></html>`,
		// documentation placeholders
		"/usr/share/doc/README": "Put your key in /etc/key.pem:\n\n-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n\n" +
			"-----BEGIN RSA PRIVATE KEY-----\nMIIE...base64 here\n-----END RSA PRIVATE KEY-----\n" +
			"-----BEGIN EC PRIVATE KEY-----\n<your key here>\n-----END EC PRIVATE KEY-----\n" +
			"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n-----END RSA PRIVATE KEY-----\n" +
			"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		// public keys and certificates
		"/etc/ssl/cert.pem":                pemOf("CERTIFICATE", certDER),
		"/etc/ssl/pub.pem":                 pemOf("PUBLIC KEY", spki) + pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)),
		"/root/.ssh/authorized_keys":       "ssh-rsa " + b64(pubBlob) + " user@host\n",
		"/etc/dropbear/dropbear_rsa.pub":   string(pubBlob),
		"/etc/ssl/certs/ca.der":            string(certDER),
		"/etc/ssl/truncated.pem":           truncated,
		"/etc/ssl/noend.pem":               strings.Join(lines[:len(lines)-2], "\n"),
		"/etc/ssl/corrupt.pem":             pemOf("RSA PRIVATE KEY", corrupt),
		"/etc/ssl/wrong-label-cert.pem":    pemOf("RSA PRIVATE KEY", certDER),
		"/etc/ssl/encrypted-garbage.pem":   "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,XYZ\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"/usr/share/openssl/openssl.cnf":   "private_key = $dir/private/cakey.pem # The private key\n",
		"/usr/share/doc/putty-example.txt": "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: example\nPublic-Lines: 1\n...\nPrivate-Lines: 1\n...\n",
	}
	if fs := analyze(t, dirTarget(t, files)); len(fs) != 0 {
		t.Fatalf("want no findings, got:\n%s", summary(fs))
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestEscapedPEMInConfig(t *testing.T) {
	k := keysForTest(t)
	p := strings.ReplaceAll(pkcs8PEM(t, k.ec), "\n", `\n`)
	fs := analyze(t, dirTarget(t, map[string]string{
		"/etc/config.json": "{\n  \"name\": \"x\",\n  \"tls_key\": \"" + p + "\"\n}\n",
	}))
	if len(fs) != 1 || fs[0].Line != 3 || !strings.Contains(fs[0].Evidence, "ECDSA P-256, PKCS#8 PEM") {
		t.Fatalf("got:\n%s", summary(fs))
	}
}

func TestSameKeyAcrossFilesAndLayers(t *testing.T) {
	k := keysForTest(t)
	t1 := dirTarget(t, map[string]string{"/etc/ssh/ssh_host_rsa_key": pkcs1PEM(k.rsa)})
	t2 := dirTarget(t, map[string]string{"/etc/dropbear/dropbear_rsa_host_key": string(dropbearRSA(k.rsa, true))})
	a, b := analyze(t, t1), analyze(t, t2)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("got:\n%s%s", summary(a), summary(b))
	}
	if a[0].Fingerprint != b[0].Fingerprint || a[0].ID == b[0].ID {
		t.Errorf("same key in two images: fingerprints %s %s", a[0].Fingerprint, b[0].Fingerprint)
	}
	if !strings.Contains(a[0].Message, "SSH host key") {
		t.Errorf("host key not named: %s", a[0].Message)
	}
}

func TestBoundedRead(t *testing.T) {
	k := keysForTest(t)
	big := strings.Repeat("# padding line\n", TextBound/15+10) + pkcs1PEM(k.rsa)
	fs := analyze(t, dirTarget(t, map[string]string{"/etc/big.txt": big, "/etc/small.txt": pkcs1PEM(k.rsa)}))
	if len(fs) != 1 || fs[0].Path != "/etc/small.txt" {
		t.Fatalf("want only the key inside the bound, got:\n%s", summary(fs))
	}
}

func TestCancel(t *testing.T) {
	k := keysForTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Analyze(ctx, dirTarget(t, map[string]string{"/k": pkcs1PEM(k.rsa)}))
	if err == nil {
		t.Fatal("want context error")
	}
}

func TestHostileAnchorsBounded(t *testing.T) {
	// a file that is nothing but anchors must not take long or report
	var sb strings.Builder
	for sb.Len() < 2<<20 {
		sb.WriteString("-----BEGIN RSA PRIVATE KEY-----\x30\x82\x01\x00\x02\x01\x00\x02\x00\x00\x00\x07ssh-rsaPuTTY-User-Key-File-2: ssh-rsa\n")
	}
	if hits := scan([]byte(sb.String())); len(hits) != 0 {
		t.Fatalf("hits: %v", hits)
	}
}

// Real samples.

func TestZyXELRealImage(t *testing.T) {
	img := testcorpus.Shared(t, "real/zyxel_p663h51_rootfs_squashfs_v2.bin")
	tg := testcorpus.ExtractTarget(t, img)
	// the traps are present in the image
	var traps int
	for _, f := range tg.Files() {
		if f.Path == "/lib/libbcmssl.so" || f.Path == "/webs/certimport.html" {
			b, err := tg.ReadFile(f, BinaryBound)
			if err != nil || !strings.Contains(string(b), "-----BEGIN RSA PRIVATE KEY-----") {
				t.Fatalf("%s: expected a PEM private key marker (%v)", f.Path, err)
			}
			traps++
		}
	}
	if traps != 2 {
		t.Fatalf("trap files not found (%d)", traps)
	}
	fs := analyze(t, tg)
	if len(fs) != 1 {
		t.Fatalf("want exactly 1 finding, got:\n%s", summary(fs))
	}
	f := fs[0]
	// fingerprint as computed by ssh-keygen -l from the public half
	const fp = "SHA256:F9KYIspH9Bhy0ohvvWPEgP5HeCUIeZZ5pA+8Xu2Eky8"
	if f.Rule != RuleDropbear || f.Path != "/etc/rsa_host_key" || f.Severity != analyzers.High ||
		!strings.Contains(f.Evidence, "RSA 1040 bits, dropbear, unencrypted, "+fp) || f.Offset == nil || *f.Offset != 0 {
		t.Fatalf("got:\n%s", summary(fs))
	}
}

func TestTPLinkWR841NNoKeys(t *testing.T) {
	img := testcorpus.Shared(t, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	tg := testcorpus.ExtractTarget(t, img)
	var seen bool
	for _, f := range tg.Files() {
		if f.Path == "/usr/sbin/dropbearmulti" {
			b, err := tg.ReadFile(f, BinaryBound)
			if err != nil || !strings.Contains(string(b), "PRIVATE KEY-----") {
				t.Fatalf("dropbearmulti: expected a PEM private key header literal (%v)", err)
			}
			seen = true
		}
	}
	if !seen {
		t.Fatal("dropbearmulti not found")
	}
	if fs := analyze(t, tg); len(fs) != 0 {
		t.Fatalf("want no findings, got:\n%s", summary(fs))
	}
}

func BenchmarkKeysWR841N(b *testing.B) {
	img := testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	tg := testcorpus.ExtractTarget(b, img)
	a := New()
	var bytes int64
	for _, f := range tg.Files() {
		bytes += f.Size
	}
	b.SetBytes(bytes)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}

// Hostile input with huge numbers that do not check must stay cheap: the
// n = p·q precheck runs before crypto/x509's validation, and the costly
// dropbear check (no p and q) is bounded in size and count.
func TestHostileBigNumbersBounded(t *testing.T) {
	rnd := func(bits int) *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits)))
		return n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	}
	type pk struct {
		V                     int
		N                     *big.Int
		E                     int
		D, P, Q, Dp, Dq, Qinv *big.Int
	}
	der, err := asn1.Marshal(pk{N: rnd(16000), E: 65537, D: rnd(15999), P: rnd(8000), Q: rnd(8000), Dp: rnd(7999), Dq: rnd(7999), Qinv: rnd(7999)})
	if err != nil {
		t.Fatal(err)
	}
	noPQ := cat(sshString([]byte("ssh-rsa")), sshMpint(big.NewInt(65537)), sshMpint(rnd(4096)), sshMpint(rnd(4095)))
	var b []byte
	for range 1000 {
		b = append(b, der...)
		b = append(b, noPQ...)
	}
	b = append(b, []byte(pemOf("RSA PRIVATE KEY", der))...)
	hits := scan(b) // bounded work per candidate; a hang would hit the test timeout
	if len(hits) != 0 {
		t.Fatalf("hits: %v", hits)
	}
}

// A key inside an uncompressed container is reported once, in the layer
// unpacked from it, not again in the container blob.
func TestUnpackedCopyReportedOnce(t *testing.T) {
	k := keysForTest(t)
	key := pkcs1PEM(k.rsa)
	other := pkcs8PEM(t, k.ec)
	outer, inner := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outer, "initrd.cpio"), []byte("070701...\x00"+key+"\x00"+other), 0o644)
	os.MkdirAll(filepath.Join(inner, "etc"), 0o755)
	os.WriteFile(filepath.Join(inner, "etc", "key.pem"), []byte(key), 0o644)
	tg := analyzers.NewTarget([]*extract.Layer{
		{ID: "L1", Path: "blob", Kind: "container", Root: outer, Format: "test"},
		{ID: "L2", Parent: "L1", Source: "initrd.cpio", Path: "blob > initrd.cpio > cpio@0x0", Kind: "filesystem", Root: inner, Format: "cpio"},
	})
	fs := analyze(t, tg)
	if len(fs) != 2 {
		t.Fatalf("want 2 findings, got:\n%s", summary(fs))
	}
	if f := only(t, fs, "/etc/key.pem"); f.LayerID != "L2" || f.Fingerprint != fpHex(t, &k.rsa.PublicKey) {
		t.Errorf("key.pem: %+v", f)
	}
	// the key that only the blob shows is still reported there
	if f := only(t, fs, "/initrd.cpio"); f.LayerID != "L1" || f.Fingerprint != fpHex(t, &k.ec.PublicKey) || f.Offset == nil {
		t.Errorf("initrd.cpio: %+v", f)
	}
}

func TestMR3020NoKeys(t *testing.T) {
	tg := testcorpus.ExtractTarget(t, testcorpus.Shared(t, "real/tplink_mr3020_v1_3.17.2_testroot.tpl"))
	if len(tg.Files()) == 0 {
		t.Fatal("nothing unpacked")
	}
	if fs := analyze(t, tg); len(fs) != 0 {
		t.Fatalf("want no findings, got:\n%s", summary(fs))
	}
}
