package keys

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzKeys runs the content scanner over arbitrary bytes: it must never
// panic, and whatever it reports must lie inside the input, name a known
// rule and carry a fingerprint but no key material.
func FuzzKeys(f *testing.F) {
	k := keysForTest(f)
	p1 := x509.MarshalPKCS1PrivateKey(k.rsa)
	p8, _ := x509.MarshalPKCS8PrivateKey(k.ec)
	seeds := []string{
		pkcs1PEM(k.rsa),
		sec1PEM(f, k.ec),
		pemOf("DSA PRIVATE KEY", dsaDERBytes(f, k.dsa)),
		openSSHPEM(f, k.ed, ""),
		openSSHPEM(f, k.ec, "pw"),
		legacyEncryptedPEM(f, k.rsa),
		encryptedPKCS8PEM(f),
		string(dropbearRSA(k.rsa, true)),
		string(dropbearDSS(k.dsa)),
		string(dropbearECDSA(f, k.ec)),
		string(dropbearEd25519(k.ed)),
		ppkRSA(f, k.rsa),
		ppkEd25519(f, k.ed),
		ppkEncrypted(f, "3", k.rsa),
		string(jksFile(f, k.rsa, "changeit")),
		"\x00\x01" + string(p1) + "\x00" + string(p8),
		strings.ReplaceAll(pkcs1PEM(k.rsa), "\n", `\n`),
		"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" + strings.Repeat("QUFB", 40) + "\n-----END RSA PRIVATE KEY-----\n",
	}
	for _, n := range []string{"test-only-empty-password.p12", "test-only-password-secret.p12"} {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	rules := map[string]bool{RulePrivateKey: true, RuleEncrypted: true, RuleDropbear: true, RulePKCS12NoPassword: true, RulePuTTY: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		hits := scan(data)
		last := -1
		for _, h := range hits {
			if h.pos < 0 || h.n <= 0 || h.pos+h.n > len(data) || h.pos < last {
				t.Fatalf("hit out of bounds or order: pos %d n %d len %d", h.pos, h.n, len(data))
			}
			last = h.pos + h.n
			if !rules[h.rule] || len(h.key.FP) != 16 || h.key.Format == "" {
				t.Fatalf("bad hit: %+v", h)
			}
			if len(h.marker) > 100 || strings.ContainsAny(h.marker, "\n") {
				t.Fatalf("marker holds more than the BEGIN line: %q", h.marker)
			}
		}
	})
}
