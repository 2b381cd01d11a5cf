package keys

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still shipped in firmware
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/ssh"

	"github.com/fwaudit/fwaudit/analyzers"
)

// keyInfo describes one private key that was confirmed by parsing it. It
// never holds the private material itself.
type keyInfo struct {
	// Type is RSA, DSA, ECDSA, Ed25519, X25519 or "" when unknown
	// (encrypted containers that carry no public key).
	Type string
	// Bits is the modulus / group size; Curve the named curve.
	Bits  int
	Curve string
	// Format is the container: "PKCS#1 PEM", "OpenSSH", "dropbear", ...
	Format string
	// Encrypted is true when the private part is encrypted; Cipher names
	// the cipher when known.
	Encrypted bool
	Cipher    string
	// SSHFP is the ssh-keygen style "SHA256:base64" fingerprint of the
	// public key (SSH wire format, or SPKI DER for key types SSH does not
	// know). It is empty when the public key is not available.
	SSHFP string
	// FP is the short fingerprint (first 16 hex characters of the SHA-256
	// of the same public key bytes, or of the encrypted blob when there is
	// no public key).
	FP string
	// Note is extra detail (PKCS#12 bag count, JKS alias, ...).
	Note string
}

// size renders "RSA 2048 bits", "ECDSA P-256", "Ed25519".
func (k keyInfo) size() string {
	switch {
	case k.Type == "":
		return "unknown key type"
	case k.Curve != "":
		return k.Type + " " + k.Curve
	case k.Bits > 0:
		return fmt.Sprintf("%s %d bits", k.Type, k.Bits)
	}
	return k.Type
}

// describe renders the key for evidence: type, size, container and
// fingerprint; never key material.
func (k keyInfo) describe() string {
	s := k.size() + ", " + k.Format
	if k.Encrypted {
		if k.Cipher != "" {
			s += ", encrypted (" + k.Cipher + ")"
		} else {
			s += ", encrypted"
		}
	} else {
		s += ", unencrypted"
	}
	if k.Note != "" {
		s += ", " + k.Note
	}
	if k.SSHFP != "" {
		s += ", " + k.SSHFP
	} else if k.FP != "" {
		s += ", blob fp:" + k.FP
	}
	return s
}

// errNotKey is returned by the parsers for input that is not a key.
var errNotKey = errors.New("not a private key")

// maxRSABits bounds the RSA moduli (and DSA primes) the validators accept,
// so hostile input cannot make them spend long in big-number arithmetic.
const maxRSABits = 16384

// setPublic fills Type, Bits, Curve, SSHFP and FP from a public key.
func (k *keyInfo) setPublic(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.Type, k.Bits = "RSA", p.N.BitLen()
	case *dsa.PublicKey:
		k.Type, k.Bits = "DSA", p.P.BitLen()
	case *ecdsa.PublicKey:
		k.Type, k.Curve = "ECDSA", p.Curve.Params().Name
	case ed25519.PublicKey:
		k.Type = "Ed25519"
	case *ecdh.PublicKey:
		k.Type = "X25519"
		if p.Curve() != ecdh.X25519() {
			k.Type, k.Bits = "ECDH", 8*len(p.Bytes())
		}
	default:
		return fmt.Errorf("unsupported public key %T", pub)
	}
	var wire []byte
	if sp, err := ssh.NewPublicKey(pub); err == nil {
		wire = sp.Marshal()
	} else if der, err := x509.MarshalPKIXPublicKey(pub); err == nil {
		wire = der
	} else {
		return err
	}
	k.setFingerprint(wire)
	return nil
}

// setFingerprint sets SSHFP and FP from public-key bytes.
func (k *keyInfo) setFingerprint(wire []byte) {
	sum := sha256.Sum256(wire)
	k.SSHFP = "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	k.FP = analyzers.Fingerprint(string(wire))
}

// setBlobFingerprint is for encrypted containers without a public key: the
// fingerprint recognises the same encrypted blob elsewhere.
func (k *keyInfo) setBlobFingerprint(blob []byte) {
	k.FP = analyzers.Fingerprint(string(blob))
}

// fromPrivate fills the public part from a parsed private key.
func (k *keyInfo) fromPrivate(priv any) error {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		return k.setPublic(&p.PublicKey)
	case *ecdsa.PrivateKey:
		return k.setPublic(&p.PublicKey)
	case ed25519.PrivateKey:
		return k.setPublic(p.Public())
	case *ed25519.PrivateKey:
		return k.setPublic(p.Public())
	case *dsa.PrivateKey:
		return k.setPublic(&p.PublicKey)
	case *ecdh.PrivateKey:
		return k.setPublic(p.PublicKey())
	}
	return fmt.Errorf("unsupported private key %T", priv)
}

var one = big.NewInt(1)

// checkRSA confirms an RSA private key from its numbers: n = p·q and
// e·d ≡ 1 modulo p-1 and q-1. Without p and q (old dropbear files) it
// checks (2^e)^d ≡ 2 mod n instead.
func checkRSA(n, e, d, p, q *big.Int) error {
	if n == nil || e == nil || d == nil || n.Sign() <= 0 || e.Sign() <= 0 || d.Sign() <= 0 {
		return errNotKey
	}
	if n.BitLen() < 256 || n.BitLen() > maxRSABits || e.BitLen() > 64 || e.Bit(0) == 0 || d.Cmp(n) >= 0 {
		return errNotKey
	}
	if p == nil || q == nil {
		// (2^e)^d mod n costs a full-size exponentiation: keep it small
		if n.BitLen() > 4096 {
			return errNotKey
		}
		two := big.NewInt(2)
		c := new(big.Int).Exp(two, e, n)
		if new(big.Int).Exp(c, d, n).Cmp(two) != 0 {
			return errNotKey
		}
		return nil
	}
	if p.Cmp(one) <= 0 || q.Cmp(one) <= 0 || new(big.Int).Mul(p, q).Cmp(n) != 0 {
		return errNotKey
	}
	ed := new(big.Int).Mul(e, d)
	for _, pr := range []*big.Int{p, q} {
		pm1 := new(big.Int).Sub(pr, one)
		if new(big.Int).Mod(ed, pm1).Cmp(one) != 0 {
			return errNotKey
		}
	}
	return nil
}

// checkDSA confirms a DSA key: y = g^x mod p, with q dividing p-1.
func checkDSA(p, q, g, y, x *big.Int) error {
	for _, v := range []*big.Int{p, q, g, y, x} {
		if v == nil || v.Sign() <= 0 {
			return errNotKey
		}
	}
	if p.BitLen() < 256 || p.BitLen() > 4096 || q.BitLen() < 100 || q.BitLen() > 512 || x.Cmp(q) >= 0 || g.Cmp(p) >= 0 || y.Cmp(p) >= 0 {
		return errNotKey
	}
	if new(big.Int).Mod(new(big.Int).Sub(p, one), q).Sign() != 0 {
		return errNotKey
	}
	if new(big.Int).Exp(g, x, p).Cmp(y) != 0 {
		return errNotKey
	}
	return nil
}

// sshCurve maps the SSH curve identifiers to curves.
func sshCurve(name string) (elliptic.Curve, ecdh.Curve) {
	switch name {
	case "nistp256":
		return elliptic.P256(), ecdh.P256()
	case "nistp384":
		return elliptic.P384(), ecdh.P384()
	case "nistp521":
		return elliptic.P521(), ecdh.P521()
	}
	return nil, nil
}

// checkECDSA confirms d·G = Q for an uncompressed point; it returns the
// public key.
func checkECDSA(curveName string, point []byte, d *big.Int) (*ecdsa.PublicKey, error) {
	curve, ec := sshCurve(curveName)
	if curve == nil || d == nil || d.Sign() <= 0 || d.Cmp(curve.Params().N) >= 0 {
		return nil, errNotKey
	}
	size := (curve.Params().BitSize + 7) / 8
	priv, err := ec.NewPrivateKey(d.FillBytes(make([]byte, size)))
	if err != nil {
		return nil, errNotKey
	}
	if string(priv.PublicKey().Bytes()) != string(point) {
		return nil, errNotKey
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, errNotKey
	}
	return pub, nil
}

// checkEd25519 confirms that seed derives pub.
func checkEd25519(seed, pub []byte) (ed25519.PublicKey, error) {
	if len(seed) != ed25519.SeedSize || len(pub) != ed25519.PublicKeySize {
		return nil, errNotKey
	}
	k := ed25519.NewKeyFromSeed(seed)
	p := k.Public().(ed25519.PublicKey)
	if string(p) != string(pub) {
		return nil, errNotKey
	}
	return p, nil
}

func bigE(e int) *big.Int { return big.NewInt(int64(e)) }

func dsaPrivate(p, q, g, y, x *big.Int) *dsa.PrivateKey {
	return &dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}, X: x}
}

// pkcs1DER is PKCS#1 RSAPrivateKey (the two-prime form).
type pkcs1DER struct {
	Version int
	N       *big.Int
	E       *big.Int
	D       *big.Int
	P       *big.Int
	Q       *big.Int
	Rest    asn1.RawValue `asn1:"optional"`
}

// rsaPrecheck cheaply rejects PKCS#1 DER whose numbers cannot be a key
// (n ≠ p·q, oversized), before crypto/x509 spends time validating it. It
// returns true for anything that is not PKCS#1-shaped, leaving the verdict
// to the real parser.
func rsaPrecheck(der []byte) bool {
	var k pkcs1DER
	if _, err := asn1.Unmarshal(der, &k); err != nil {
		return true
	}
	if k.N == nil || k.P == nil || k.Q == nil || k.N.BitLen() > maxRSABits {
		return false
	}
	return new(big.Int).Mul(k.P, k.Q).Cmp(k.N) == 0
}

// pkcs8DER is PKCS#8 PrivateKeyInfo.
type pkcs8DER struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

var oidRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}

// pkcs8Precheck applies rsaPrecheck to the key inside a PKCS#8 RSA key.
func pkcs8Precheck(der []byte) bool {
	var k pkcs8DER
	if _, err := asn1.Unmarshal(der, &k); err != nil || !k.Algo.Algorithm.Equal(oidRSA) {
		return true
	}
	return rsaPrecheck(k.PrivateKey)
}
