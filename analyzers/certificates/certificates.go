// Package certificates is the analyzer for X.509 certificates shipped in
// an image (Code of Practice guideline 5, "communicate securely", and 4
// when a certificate's private key ships beside it).
//
// PEM certificates are read from text files (any PEM block inside any
// text file, first TextBound bytes) and DER certificates from files named
// *.der, *.cer, *.crt, *.cert; private keys (PKCS#1, PKCS#8, SEC 1, PEM)
// are collected per layer so a certificate's key can be matched by its
// public key. Certificates compiled into binaries are not looked at.
//
// Rules: certificate-with-private-key (high; a CA certificate's key:
// critical), certificate-self-signed (low: a self-signed leaf whose key
// ships in the same layer, i.e. a service certificate nobody can verify),
// certificate-expired (medium) and certificate-not-yet-valid (low),
// relative to the scan date; certificate-weak-key (RSA or DSA < 2048
// bits, EC < 224 bits: medium); certificate-weak-signature (MD2, MD5,
// SHA-1: medium, low on a self-signed certificate, whose own signature
// nobody relies on).
//
// Trust stores — files with more than 3 certificates, and files under a
// CA directory (/etc/ssl/certs, /usr/share/ca-certificates, /etc/pki) —
// give no per-certificate findings: an expired root in a CA bundle is
// normal. A layer with trust stores gets one info finding
// (certificate-trust-store) listing them; a trust-store certificate whose
// private key ships in the layer is still reported.
package certificates

import (
	"bytes"
	"context"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // reading old keys
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/rules/builtin"
)

// Rule names.
const (
	RuleWithKey       = "certificate-with-private-key"
	RuleSelfSigned    = "certificate-self-signed"
	RuleExpired       = "certificate-expired"
	RuleNotYetValid   = "certificate-not-yet-valid"
	RuleWeakKey       = "certificate-weak-key"
	RuleWeakSignature = "certificate-weak-signature"
	RuleTrustStore    = "certificate-trust-store"
)

// Category of every finding.
const Category = "certificate"

// Bounds.
const (
	TextBound = 4 << 20
	DERBound  = 64 << 10
	// maxBlocks bounds the PEM blocks tried in one file.
	maxBlocks = 2000
)

type analyzer struct{ date time.Time }

// New returns the certificates analyzer; validity is judged at scanDate
// (zero: the time of the scan).
func New(scanDate time.Time) analyzers.Analyzer { return analyzer{date: scanDate} }

func (analyzer) Name() string { return "certificates" }

// Examines implements analyzers.Scoped.
func (analyzer) Examines() string { return "text and DER files searched for certificates" }

type cert struct {
	f    analyzers.File
	text bool
	line int
	c    *x509.Certificate
	pub  []byte // PKIX public key DER
}

var derExt = map[string]bool{".der": true, ".cer": true, ".crt": true, ".cert": true, ".pem": true}

func (a analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	now := a.date
	if now.IsZero() {
		now = time.Now()
	}
	var certs []cert
	keys := map[string]map[string]string{} // layer ID → public key DER → key path
	stores := map[string][]string{}        // layer ID → trust store descriptions
	storeLayer := map[string]analyzers.File{}
	var unread []string
	sel := analyzers.Selector{MinSize: 1, Analyzer: "certificates", What: "text and DER files searched for certificates"}
	err := t.Walk(ctx, sel, func(f analyzers.File) error {
		ext := strings.ToLower(path.Ext(f.Path))
		class := t.Classify(f)
		if class != analyzers.ClassText && !derExt[ext] {
			return analyzers.Skip
		}
		bound := int64(TextBound)
		if class != analyzers.ClassText {
			bound = DERBound
		}
		data, err := t.ReadHead(f, bound)
		if err != nil {
			unread = append(unread, f.Path)
			return analyzers.Skip
		}
		lid := layerID(f)
		var found []cert
		if class == analyzers.ClassText || bytes.Contains(data, []byte("-----BEGIN ")) {
			scanPEM(data, func(line int, blk *pem.Block) {
				switch {
				case strings.HasSuffix(blk.Type, "CERTIFICATE"):
					if c := parseCert(blk.Bytes); c != nil {
						found = append(found, cert{f: f, text: true, line: line, c: c, pub: pubDER(c.PublicKey)})
					}
				case strings.HasSuffix(blk.Type, "PRIVATE KEY") && blk.Headers["Proc-Type"] == "":
					if pub := privatePub(blk.Bytes); pub != nil {
						if keys[lid] == nil {
							keys[lid] = map[string]string{}
						}
						if _, ok := keys[lid][string(pub)]; !ok {
							keys[lid][string(pub)] = f.Path
						}
					}
				}
			})
		} else if len(data) > 0 && data[0] == 0x30 {
			if c := parseCert(data); c != nil {
				found = append(found, cert{f: f, c: c, pub: pubDER(c.PublicKey)})
			}
		}
		if len(found) > 3 || trustDir(f.Path) {
			expired := 0
			for _, c := range found {
				if now.After(c.c.NotAfter) {
					expired++
				}
			}
			if len(found) > 0 {
				stores[lid] = append(stores[lid], fmt.Sprintf("%s (%d certificates, %d expired)", f.Path, len(found), expired))
				storeLayer[lid] = f
			}
			for i := range found {
				found[i].line = -found[i].line - 1 // marks trust-store members
			}
		}
		certs = append(certs, found...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []analyzers.Finding
	for _, c := range certs {
		store := c.line < 0
		if store {
			c.line = -c.line - 1
		}
		keyPath, hasKey := keys[layerID(c.f)][string(c.pub)]
		out = append(out, check(c, now, store, keyPath, hasKey)...)
	}
	for lid, list := range stores {
		sort.Strings(list)
		f := storeLayer[lid]
		fd := base(f, RuleTrustStore)
		fd.Evidence = strings.Join(list, "; ")
		fd.Fingerprint = analyzers.Fingerprint(fd.Evidence)
		fd.Message = "The image ships trust stores (CA bundles): " + fd.Evidence + ". Expired or self-signed roots in a bundle are normal and are not reported one by one; keep the bundle updated through firmware updates."
		out = append(out, fd)
	}
	if len(unread) > 0 {
		return out, fmt.Errorf("certificates: %d files could not be read (first: %s)", len(unread), unread[0])
	}
	return out, nil
}

func layerID(f analyzers.File) string {
	if f.Layer == nil {
		return ""
	}
	return f.Layer.ID
}

func trustDir(p string) bool {
	for _, d := range []string{"/etc/ssl/certs/", "/usr/share/ca-certificates/", "/etc/pki/", "/usr/local/share/ca-certificates/"} {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	b := strings.ToLower(path.Base(p))
	return strings.Contains(b, "ca-bundle") || strings.Contains(b, "ca-certificates") || strings.HasPrefix(b, "cacert")
}

// scanPEM calls fn for each PEM block in b, with its 1-based line.
func scanPEM(b []byte, fn func(line int, blk *pem.Block)) {
	begin := []byte("-----BEGIN ")
	line, last := 1, 0
	for from, n := 0, 0; from < len(b) && n < maxBlocks; n++ {
		i := bytes.Index(b[from:], begin)
		if i < 0 {
			return
		}
		pos := from + i
		end := bytes.Index(b[pos:], []byte("-----END "))
		if end < 0 {
			return
		}
		stop := pos + end
		if nl := bytes.IndexByte(b[stop:], '\n'); nl >= 0 {
			stop += nl + 1
		} else {
			stop = len(b)
		}
		// a second BEGIN before the END: start from it
		if j := bytes.Index(b[pos+1:pos+end], begin); j >= 0 {
			from = pos + 1 + j
			continue
		}
		line += bytes.Count(b[last:pos], []byte{'\n'})
		last = pos
		if blk, _ := pem.Decode(b[pos:stop]); blk != nil {
			fn(line, blk)
		}
		from = stop
	}
}

// parseCert parses a DER certificate, ignoring trailing bytes (OpenSSL's
// TRUSTED CERTIFICATE appends its trust settings).
func parseCert(der []byte) *x509.Certificate {
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(raw.FullBytes)
	if err != nil {
		return nil
	}
	return c
}

func pubDER(pub any) []byte {
	if k, ok := pub.(*dsa.PublicKey); ok {
		return []byte("dsa:" + k.Y.String())
	}
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return b
}

// privatePub returns the public key DER of an unencrypted private key.
func privatePub(der []byte) []byte {
	var priv any
	var err error
	if priv, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if priv, err = x509.ParsePKCS1PrivateKey(der); err != nil {
			if priv, err = x509.ParseECPrivateKey(der); err != nil {
				return nil
			}
		}
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil
	}
	return pubDER(s.Public())
}

func keyDesc(c *x509.Certificate) (string, bool) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		n := k.N.BitLen()
		return fmt.Sprintf("RSA %d", n), n < 2048
	case *dsa.PublicKey:
		n := k.P.BitLen()
		return fmt.Sprintf("DSA %d", n), n < 2048
	case *ecdsa.PublicKey:
		n := k.Curve.Params().BitSize
		return fmt.Sprintf("EC %s", k.Curve.Params().Name), n < 224
	case ed25519.PublicKey:
		return "Ed25519", false
	}
	return c.PublicKeyAlgorithm.String(), false
}

func weakSig(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

func name(n string) string {
	if n == "" {
		return "(none)"
	}
	return n
}

// base starts a finding of rule with the severity and guidelines of its
// rule data (rules/builtin/builtin.yaml).
func base(f analyzers.File, rule string) analyzers.Finding {
	fd := analyzers.Finding{Rule: rule, Category: Category, Severity: severity(rule), Path: f.Path, Guidelines: builtin.Guidelines(rule)}
	if f.Layer != nil {
		fd.Layer, fd.LayerID = f.Layer.Path, f.Layer.ID
	}
	return fd
}

func check(c cert, now time.Time, store bool, keyPath string, hasKey bool) []analyzers.Finding {
	x := c.c
	sum := sha256.Sum256(x.Raw)
	fp := hex.EncodeToString(sum[:])
	kd, weakKey := keyDesc(x)
	selfSigned := bytes.Equal(x.RawIssuer, x.RawSubject)
	evidence := fmt.Sprintf("subject CN=%s, issuer CN=%s, valid %s to %s, %s key, %s signature, sha256:%s",
		name(x.Subject.CommonName), name(x.Issuer.CommonName), x.NotBefore.UTC().Format("2006-01-02"), x.NotAfter.UTC().Format("2006-01-02"),
		kd, x.SignatureAlgorithm, fp)
	where := fmt.Sprintf("%s (layer %s)", c.f.Path, "")
	if c.f.Layer != nil {
		where = fmt.Sprintf("%s (layer %s)", c.f.Path, c.f.Layer.Path)
	}
	if c.text {
		where = strings.Replace(where, " (", fmt.Sprintf(" line %d (", c.line), 1)
	}
	var out []analyzers.Finding
	// add adds a finding of rule at its data's severity, or at sev when
	// the certificate raises or lowers it (a CA's key, a self-signed
	// certificate's weak signature); "" keeps the data's.
	add := func(rule string, sev analyzers.Severity, msg string) {
		fd := base(c.f, rule)
		if sev != "" {
			fd.Severity = sev
		}
		fd.Fingerprint = fp[:16]
		fd.Evidence = evidence
		fd.Message = msg
		if c.text {
			fd.Line = c.line
		}
		out = append(out, fd)
	}
	if hasKey {
		sev, what := analyzers.Severity(""), "certificate"
		if x.IsCA {
			sev, what = analyzers.Critical, "CA certificate"
		}
		add(RuleWithKey, sev, fmt.Sprintf("The private key of the %s at %s ships in the same layer (%s). "+
			"Every device running this firmware holds the same key: anyone who extracts it can impersonate the device (or, for a CA, issue certificates it trusts). "+
			"Generate the key and certificate on the device at first boot, or provision a unique one per device.", what, where, keyPath))
		if selfSigned && !x.IsCA {
			add(RuleSelfSigned, "", fmt.Sprintf("The certificate at %s is self-signed and its key ships in the image: a service uses it, and clients cannot verify the device's identity, so users learn to click through warnings. "+
				"Use a per-device certificate signed by a CA clients trust.", where))
		}
	}
	if store {
		return out
	}
	if now.After(x.NotAfter) {
		add(RuleExpired, "", fmt.Sprintf("The certificate at %s expired on %s: clients that check it refuse the connection, and those that accept it accept anything. Ship a valid certificate, or generate one on the device.",
			where, x.NotAfter.UTC().Format("2006-01-02")))
	} else if now.Before(x.NotBefore) {
		add(RuleNotYetValid, "", fmt.Sprintf("The certificate at %s is not valid before %s.", where, x.NotBefore.UTC().Format("2006-01-02")))
	}
	if weakKey {
		add(RuleWeakKey, "", fmt.Sprintf("The certificate at %s has a weak %s key: it can be factored or forged. Use RSA of at least 2048 bits or an EC key of at least 256 bits.", where, kd))
	}
	if weakSig(x.SignatureAlgorithm) {
		sev := analyzers.Severity("")
		if selfSigned {
			sev = analyzers.Low
		}
		add(RuleWeakSignature, sev, fmt.Sprintf("The certificate at %s is signed with %s, a broken hash: a colliding certificate can be forged. Use SHA-256 or better.", where, x.SignatureAlgorithm))
	}
	return out
}

func severity(rule string) analyzers.Severity { return analyzers.Severity(builtin.Severity(rule)) }
