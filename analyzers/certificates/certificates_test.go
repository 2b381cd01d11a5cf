package certificates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

var scanDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func dirTarget(t testing.TB, files map[string][]byte) *analyzers.Target {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		host := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(host, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &extract.Layer{ID: "L1", Path: "test", Kind: "filesystem", Root: dir, Format: "test"}
	return analyzers.NewTarget([]*extract.Layer{l})
}

type certSpec struct {
	cn         string
	from, to   time.Time
	ca         bool
	rsaBits    int // 0: EC P-256
	issuer     *x509.Certificate
	issuerPriv any
}

func makeCert(t testing.TB, s certSpec) (der []byte, priv any) {
	t.Helper()
	var pub any
	if s.rsaBits > 0 {
		k, err := rsa.GenerateKey(rand.Reader, s.rsaBits)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: s.cn},
		NotBefore: s.from, NotAfter: s.to, IsCA: s.ca, BasicConstraintsValid: true,
	}
	parent, signer := tmpl, priv
	if s.issuer != nil {
		parent, signer = s.issuer, s.issuerPriv
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der, priv
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemKey(t testing.TB, priv any) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
}

func analyze(t testing.TB, tg *analyzers.Target) []analyzers.Finding {
	t.Helper()
	fs, err := New(scanDate).Analyze(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func rules(fs []analyzers.Finding, path string) []string {
	var out []string
	for _, f := range fs {
		if f.Path == path {
			out = append(out, f.Rule)
		}
	}
	return out
}

func summary(fs []analyzers.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(string(f.Severity) + " " + f.Rule + " " + f.Path + " — " + f.Evidence + "\n")
	}
	return b.String()
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestCertificates(t *testing.T) {
	valid := certSpec{cn: "router.local", from: scanDate.AddDate(-1, 0, 0), to: scanDate.AddDate(5, 0, 0)}
	svcDER, svcKey := makeCert(t, valid)
	expired := valid
	expired.cn, expired.to = "old.local", scanDate.AddDate(0, -1, 0)
	oldDER, _ := makeCert(t, expired)
	future := valid
	future.cn, future.from = "future.local", scanDate.AddDate(1, 0, 0)
	futDER, _ := makeCert(t, future)
	weak := valid
	weak.cn, weak.rsaBits = "weak.local", 1024
	weakDER, _ := makeCert(t, weak)
	caSpec := certSpec{cn: "Vendor CA", from: valid.from, to: valid.to, ca: true}
	caDER, caKey := makeCert(t, caSpec)
	ca, _ := x509.ParseCertificate(caDER)
	leaf := valid
	leaf.cn, leaf.issuer, leaf.issuerPriv = "leaf.local", ca, caKey
	leafDER, _ := makeCert(t, leaf)

	files := map[string][]byte{
		"/etc/lighttpd/server.pem": append(pemCert(svcDER), pemKey(t, svcKey)...),
		"/etc/old.crt":             pemCert(oldDER),
		"/etc/future.der":          futDER,
		"/www/weak.cer":            pemCert(weakDER),
		"/etc/ca/ca.crt":           pemCert(caDER),
		"/etc/ca/private/ca.key":   pemKey(t, caKey),
		"/etc/leaf.crt":            pemCert(leafDER),
		"/etc/config/app.conf":     append([]byte("# settings\nfoo=bar\n"), pemCert(oldDER)...),
	}
	fs := analyze(t, dirTarget(t, files))
	check := func(path string, want []string, not []string) {
		t.Helper()
		got := rules(fs, path)
		for _, w := range want {
			if !has(got, w) {
				t.Errorf("%s: want %s, got %v", path, w, got)
			}
		}
		for _, n := range not {
			if has(got, n) {
				t.Errorf("%s: unexpected %s", path, n)
			}
		}
	}
	check("/etc/lighttpd/server.pem", []string{RuleWithKey, RuleSelfSigned}, []string{RuleExpired, RuleWeakKey})
	check("/etc/old.crt", []string{RuleExpired}, []string{RuleWithKey, RuleSelfSigned})
	check("/etc/future.der", []string{RuleNotYetValid}, []string{RuleExpired})
	check("/www/weak.cer", []string{RuleWeakKey}, nil)
	check("/etc/ca/ca.crt", []string{RuleWithKey}, []string{RuleSelfSigned})
	check("/etc/leaf.crt", nil, []string{RuleWithKey, RuleSelfSigned, RuleExpired})
	check("/etc/config/app.conf", []string{RuleExpired}, nil)
	for _, f := range fs {
		if f.Category != Category || len(f.Fingerprint) != 16 || !strings.Contains(f.Evidence, "sha256:") {
			t.Errorf("bad finding %+v", f)
		}
		switch {
		case f.Path == "/etc/ca/ca.crt" && f.Rule == RuleWithKey:
			if f.Severity != analyzers.Critical || len(f.Guidelines) != 2 || !strings.Contains(f.Message, "/etc/ca/private/ca.key") {
				t.Errorf("CA with key: %+v", f)
			}
		case f.Path == "/etc/config/app.conf":
			if f.Line != 3 {
				t.Errorf("app.conf line %d, want 3", f.Line)
			}
		case f.Path == "/etc/lighttpd/server.pem" && f.Rule == RuleWithKey:
			if !strings.Contains(f.Evidence, "CN=router.local") || !strings.Contains(f.Evidence, "EC P-256") {
				t.Errorf("evidence %s", f.Evidence)
			}
		}
	}
}

// A CA bundle full of expired roots gives one info finding, not one per
// root.
func TestTrustStore(t *testing.T) {
	var bundle []byte
	for i := 0; i < 6; i++ {
		der, _ := makeCert(t, certSpec{cn: "Root " + string(rune('A'+i)), from: scanDate.AddDate(-20, 0, 0), to: scanDate.AddDate(-1, 0, 0), ca: true})
		bundle = append(bundle, pemCert(der)...)
	}
	one, _ := makeCert(t, certSpec{cn: "Lonely Root", from: scanDate.AddDate(-20, 0, 0), to: scanDate.AddDate(-1, 0, 0), ca: true})
	fs := analyze(t, dirTarget(t, map[string][]byte{
		"/etc/ssl/certs/ca-certificates.crt": bundle,
		"/etc/ssl/certs/lonely.pem":          pemCert(one),
		"/usr/share/misc/cacert.pem":         bundle,
	}))
	if len(fs) != 1 || fs[0].Rule != RuleTrustStore || fs[0].Severity != analyzers.Info || !strings.Contains(fs[0].Evidence, "6 certificates, 6 expired") {
		t.Fatalf("want one trust-store finding, got:\n%s", summary(fs))
	}
}

func TestWeakSignatureAlgorithms(t *testing.T) {
	for _, a := range []x509.SignatureAlgorithm{x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1} {
		if !weakSig(a) {
			t.Errorf("%v should be weak", a)
		}
	}
	if weakSig(x509.SHA256WithRSA) || weakSig(x509.PureEd25519) {
		t.Error("SHA-256 and Ed25519 are not weak")
	}
}

// Traps: PEM headers in HTML and libraries, broken blocks, encrypted keys.
func TestTraps(t *testing.T) {
	fs := analyze(t, dirTarget(t, map[string][]byte{
		"/webs/certimport.html": []byte("<textarea>-----BEGIN CERTIFICATE-----\npaste here\n-----END CERTIFICATE-----</textarea>\n"),
		"/lib/libssl.so":        []byte("\x7fELF\x00\x00-----BEGIN CERTIFICATE-----\x00-----END CERTIFICATE-----\x00"),
		"/etc/broken.crt":       []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n"),
		"/etc/x.der":            []byte{0x30, 0x82, 0xff, 0xff, 0x01},
	}))
	if len(fs) != 0 {
		t.Fatalf("want nothing, got:\n%s", summary(fs))
	}
}

func TestRealImages(t *testing.T) {
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
			// the ZyXEL image's PEM markers (libbcmssl.so, certimport.html) are traps
			if strings.Contains(rel, "zyxel") {
				n := 0
				for _, f := range tg.Files() {
					if f.Path == "/webs/certimport.html" || f.Path == "/lib/libbcmssl.so" {
						n++
					}
				}
				if n != 2 {
					t.Fatalf("trap files not extracted (%d of 2)", n)
				}
			}
			// none of the three images ships a certificate
			if fs := analyze(t, tg); len(fs) != 0 {
				t.Errorf("want no certificate findings, got:\n%s", summary(fs))
			}
		})
	}
	dir := testcorpus.Shared(t, "iotgoat-overlay")
	l := &extract.Layer{ID: "L1", Path: "iotgoat-overlay", Kind: "filesystem", Root: dir, Format: "dir"}
	if fs := analyze(t, analyzers.NewTarget([]*extract.Layer{l})); len(fs) != 0 {
		t.Errorf("iotgoat-overlay: want no certificate findings, got:\n%s", summary(fs))
	}
}

func BenchmarkCertificatesWR841N(b *testing.B) {
	tg := testcorpus.ExtractTarget(b, testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin"))
	a := New(scanDate)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), tg); err != nil {
			b.Fatal(err)
		}
	}
}
