package tokens

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// dirTarget builds a Target over files (path → content).
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
	return fs
}

// randFrom returns n random characters of alphabet.
func randFrom(t testing.TB, alphabet string, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

const (
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower  = "abcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	alnum  = upper + lower + digits
)

// fakeAWSKey is "AKIA" + 16 random characters of the key ID alphabet, with
// at least one digit so that it is not all letters.
func fakeAWSKey(t testing.TB) string {
	return "AKIA" + randFrom(t, upper+"234567", 14) + randFrom(t, "234567", 1) + randFrom(t, upper, 1)
}

// fakeJWT signs a JWT with a throw-away Ed25519 key.
func fakeJWT(t testing.TB) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"sub": "device-" + randFrom(t, digits, 8), "iss": "cloud.vendor.test", "iat": 1700000000})
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	return signing + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(signing)))
}

func find(fs []analyzers.Finding, rule, secret string) *analyzers.Finding {
	for i := range fs {
		if fs[i].Rule == rule && fs[i].Fingerprint == analyzers.Fingerprint(secret) {
			return &fs[i]
		}
	}
	return nil
}

func TestGeneratedTokens(t *testing.T) {
	aws := fakeAWSKey(t)
	gh := "ghp_" + randFrom(t, alnum, 36)
	slack := "xoxb-" + randFrom(t, digits, 12) + "-" + randFrom(t, digits, 13) + "-" + randFrom(t, alnum, 24)
	stripe := "sk_live_" + randFrom(t, alnum, 24) + "7aZ"
	gcp := "AIza" + randFrom(t, alnum+"_-", 35)
	jwt := fakeJWT(t)
	generic := randFrom(t, lower+digits, 20) + "9Xq"
	azure := base64.StdEncoding.EncodeToString([]byte(randFrom(t, alnum, 32)))
	files := map[string]string{
		"/etc/cloud/aws.conf":  "[default]\naws_access_key_id = " + aws + "\nregion = eu-west-1\n",
		"/etc/ci/env":          "export GITHUB_TOKEN=" + gh + "\n",
		"/www/js/app.js":       "var cfg = {slack: '" + slack + "', maps: '" + gcp + "'};\n",
		"/etc/pay.json":        `{"stripe": "` + stripe + `"}` + "\n",
		"/etc/device.token":    "token: " + jwt + "\n",
		"/etc/app.conf":        "# service\napi_secret = " + generic + "\n",
		"/etc/iothub.conf":     "conn=HostName=vendorhub.azure-devices.net;DeviceId=d1;SharedAccessKey=" + azure + "\n",
		"/usr/bin/cloudclient": "\x7fELF\x01\x01\x01\x00\x00\x00" + strings.Repeat("\x00\x01", 300) + "key=" + aws + "\x00\x00" + strings.Repeat("\x02", 100),
	}
	fs := analyze(t, dirTarget(t, files))
	want := []struct{ rule, secret, path string }{
		{"aws-access-token", aws, "/etc/cloud/aws.conf"},
		{"github-pat", gh, "/etc/ci/env"},
		{"slack-bot-token", slack, "/www/js/app.js"},
		{"gcp-api-key", gcp, "/www/js/app.js"},
		{"stripe-access-token", stripe, "/etc/pay.json"},
		{"jwt", jwt, "/etc/device.token"},
		{"generic-api-key", generic, "/etc/app.conf"},
		{"azure-iot-connection-string", azure, "/etc/iothub.conf"},
		{"aws-access-token", aws, "/usr/bin/cloudclient"},
	}
	for _, w := range want {
		var f *analyzers.Finding
		for i := range fs {
			if fs[i].Rule == w.rule && fs[i].Path == w.path && fs[i].Fingerprint == analyzers.Fingerprint(w.secret) {
				f = &fs[i]
			}
		}
		if f == nil {
			t.Errorf("%s in %s not found; got:\n%s", w.rule, w.path, summary(fs))
			continue
		}
		if strings.Contains(f.Evidence, w.secret) || strings.Contains(f.Message, w.secret) {
			t.Errorf("%s: secret in clear: %s", w.rule, f.Evidence)
		}
		if f.Category != Category || len(f.Guidelines) != 1 || f.Guidelines[0] != 4 {
			t.Errorf("%s: category %q guidelines %v", w.rule, f.Category, f.Guidelines)
		}
		wantSev := analyzers.High
		if w.rule == "generic-api-key" || w.rule == "jwt" {
			wantSev = analyzers.Medium
		}
		if f.Severity != wantSev {
			t.Errorf("%s: severity %s, want %s", w.rule, f.Severity, wantSev)
		}
	}
	// line numbers in text, offsets in binaries
	if f := find(fs, "aws-access-token", aws); f != nil {
		for _, f := range fs {
			if f.Fingerprint != analyzers.Fingerprint(aws) {
				continue
			}
			switch f.Path {
			case "/etc/cloud/aws.conf":
				if f.Line != 2 || f.Offset != nil {
					t.Errorf("aws in text: line %d offset %v", f.Line, f.Offset)
				}
			case "/usr/bin/cloudclient":
				wantOff := int64(strings.Index(files["/usr/bin/cloudclient"], aws))
				if f.Offset == nil || *f.Offset != wantOff || !strings.Contains(f.Evidence, "entropy") {
					t.Errorf("aws in binary: offset %v want %d, evidence %s", f.Offset, wantOff, f.Evidence)
				}
			}
		}
	}
}

// Documentation examples and placeholders are not findings.
func TestTraps(t *testing.T) {
	files := map[string]string{
		"/etc/aws.conf": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		"/etc/app.conf": "api_key = your-api-key\ntoken=xxxxxxxxxxxxxxxxxxxx\napi_token = ${API_TOKEN}\nsecret_key=<your secret key>\napikey=%s%s%s%s%s\n",
		"/www/doc.html": "<pre>curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'</pre>\n",
		"/etc/pw.conf":  "admin_password = Zq8vLm3kPp9xWt2R\n",
		"/etc/sums":     "md5sum = 9e107d9d372bb6826bd81d3542a419d6\n",
		"/usr/lib/libfoo.so": "\x7fELF\x01\x01\x01\x00\x00\x00" + strings.Repeat("\x00", 64) + "api_key_set_default_value\x00" +
			"auth_token_refresh_handler\x00" + "secret=%s token=%s\x00",
		"/www/stripe.js": "Stripe('pk_test_TYooMQauvdEDq54NiTphI7jx'); // sk_test_4eC39HqLyjWDarjtT1zdp7dc\n",
	}
	if fs := analyze(t, dirTarget(t, files)); len(fs) != 0 {
		t.Errorf("want no findings, got:\n%s", summary(fs))
	}
}

// The same secret in a file is reported once, with a count.
func TestRepeatedSecretOnce(t *testing.T) {
	aws := fakeAWSKey(t)
	fs := analyze(t, dirTarget(t, map[string]string{"/etc/a.conf": "k1=" + aws + "\nk2=" + aws + "\n"}))
	n := 0
	for _, f := range fs {
		if f.Rule == "aws-access-token" {
			n++
			if !strings.Contains(f.Evidence, "2 occurrences") || f.Line != 1 {
				t.Errorf("evidence %q line %d", f.Evidence, f.Line)
			}
		}
	}
	if n != 1 {
		t.Errorf("want 1 finding, got %d:\n%s", n, summary(fs))
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, dirTarget(t, map[string]string{"/a": "x"})); err == nil {
		t.Fatal("want context error")
	}
}

// TestSameBytesTwoPaths: a file with the bytes of another (a package's
// copy of an installed file) is scanned once but reported under both
// paths, with its own line; a file that differs by one byte is scanned.
func TestSameBytesTwoPaths(t *testing.T) {
	aws := fakeAWSKey(t)
	conf := "# cloud\n\naws_access_key_id = " + aws + "\n"
	fs := analyze(t, dirTarget(t, map[string]string{
		"/etc/cloud/aws.conf":                conf,
		"/usr/share/pkg/etc/cloud/aws.conf":  conf,
		"/usr/share/pkg/etc/cloud/aws.conf2": conf + " ",
	}))
	paths := map[string]int{}
	for _, f := range fs {
		if f.Rule == "aws-access-token" {
			paths[f.Path] = f.Line
		}
	}
	for _, p := range []string{"/etc/cloud/aws.conf", "/usr/share/pkg/etc/cloud/aws.conf", "/usr/share/pkg/etc/cloud/aws.conf2"} {
		if paths[p] != 3 {
			t.Errorf("%s: line %d (want a finding on line 3); findings:\n%s", p, paths[p], summary(fs))
		}
	}
}
