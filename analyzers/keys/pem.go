package keys

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

var pemAnchor = []byte("-----BEGIN ")

// pemWindow bounds how far the END line may be from the BEGIN line.
const pemWindow = 64 << 10

// pemBlock is one armoured block found in a file.
type pemBlock struct {
	label   string
	headers map[string]string
	der     []byte
	// begin is the BEGIN line ("-----BEGIN RSA PRIVATE KEY-----"); end
	// the offset just past the END line.
	begin string
	end   int
}

// parsePEMAt parses an armoured private-key block starting at b (which
// begins with "-----BEGIN "). It is more lenient than encoding/pem about
// layout (escaped "\n" as in JSON or shell strings, CRLF, indentation) and
// stricter about content: every body line must be base64 or a header, so
// placeholders ("...", "<your key here>", "MIIE...") are rejected.
func parsePEMAt(b []byte) (pemBlock, bool) {
	label, ok := pemLabel(b)
	if !ok {
		return pemBlock{}, false
	}
	bodyStart := len(pemAnchor) + len(label) + 5
	win := b[:min(len(b), pemWindow)]
	endMarker := []byte("-----END " + label + "-----")
	j := bytes.Index(win[bodyStart:], endMarker)
	if j < 0 {
		return pemBlock{}, false
	}
	body := string(win[bodyStart : bodyStart+j])
	blk := pemBlock{label: label, headers: map[string]string{}, begin: string(b[:bodyStart]), end: bodyStart + j + len(endMarker)}
	// escaped line breaks, as in JSON, C or shell strings
	body = strings.NewReplacer(`\r\n`, "\n", `\n`, "\n", `\r`, "\n", "\r", "\n").Replace(body)
	var sb strings.Builder
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && sb.Len() == 0 {
			if len(blk.headers) > 16 {
				return pemBlock{}, false
			}
			blk.headers[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		if !isBase64(line) {
			return pemBlock{}, false
		}
		sb.WriteString(line)
	}
	enc := sb.String()
	der, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "="))
		if err != nil {
			return pemBlock{}, false
		}
	}
	if len(der) < 40 {
		return pemBlock{}, false
	}
	blk.der = der
	return blk, true
}

// pemLabel returns the label of the BEGIN line at b if it names a private
// key.
func pemLabel(b []byte) (string, bool) {
	rest := b[len(pemAnchor):]
	i := bytes.Index(rest[:min(len(rest), 64)], []byte("-----"))
	if i <= 0 {
		return "", false
	}
	label := string(rest[:i])
	for _, c := range label {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '#' || c == '-') {
			return "", false
		}
	}
	return label, strings.Contains(label, "PRIVATE KEY")
}

func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// keyFromPEM confirms that a block holds a private key.
func keyFromPEM(blk pemBlock) (keyInfo, bool) {
	switch blk.label {
	case "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY":
		if strings.Contains(blk.headers["Proc-Type"], "ENCRYPTED") {
			return legacyEncrypted(blk)
		}
		hint := map[string]string{"RSA PRIVATE KEY": "pkcs1", "DSA PRIVATE KEY": "dsa", "EC PRIVATE KEY": "sec1"}[blk.label]
		return keyFromDER(blk.der, hint, " PEM")
	case "ENCRYPTED PRIVATE KEY":
		return encryptedPKCS8(blk.der, false)
	case "OPENSSH PRIVATE KEY":
		return openSSHKey(blk.der)
	}
	if strings.Contains(blk.headers["Proc-Type"], "ENCRYPTED") {
		return legacyEncrypted(blk)
	}
	if k, ok := keyFromDER(blk.der, "pkcs8", " PEM"); ok {
		return k, true
	}
	return openSSHKey(blk.der)
}

// keyFromDER parses DER as PKCS#1, PKCS#8, SEC 1 or OpenSSL DSA, trying
// hint first. suffix is appended to the format name (" PEM" or " DER").
func keyFromDER(der []byte, hint, suffix string) (keyInfo, bool) {
	order := []string{"pkcs1", "pkcs8", "sec1", "dsa"}
	for i, o := range order {
		if o == hint {
			order[0], order[i] = order[i], order[0]
		}
	}
	for _, o := range order {
		var (
			priv any
			err  error
			name string
		)
		switch o {
		case "pkcs1":
			if !rsaPrecheck(der) {
				continue
			}
			priv, err = x509.ParsePKCS1PrivateKey(der)
			name = "PKCS#1"
		case "pkcs8":
			if !pkcs8Precheck(der) {
				continue
			}
			priv, err = x509.ParsePKCS8PrivateKey(der)
			name = "PKCS#8"
		case "sec1":
			priv, err = x509.ParseECPrivateKey(der)
			name = "SEC 1"
		case "dsa":
			priv, err = parseDSAPrivateKey(der)
			name = "OpenSSL DSA"
		}
		if err != nil {
			continue
		}
		k := keyInfo{Format: name + suffix}
		if k.fromPrivate(priv) != nil {
			continue
		}
		return k, true
	}
	return keyInfo{}, false
}

// dsaDER is OpenSSL's DSA private key: SEQUENCE { version, p, q, g, y, x }.
type dsaDER struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

func parseDSAPrivateKey(der []byte) (any, error) {
	var k dsaDER
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil || len(rest) != 0 || k.Version != 0 {
		return nil, errNotKey
	}
	if err := checkDSA(k.P, k.Q, k.G, k.Y, k.X); err != nil {
		return nil, err
	}
	return dsaPrivate(k.P, k.Q, k.G, k.Y, k.X), nil
}

// legacyEncrypted handles OpenSSL's "Proc-Type: 4,ENCRYPTED" blocks: the
// DEK-Info header must name a cipher and a hex IV and the body must be a
// whole number of cipher blocks.
func legacyEncrypted(blk pemBlock) (keyInfo, bool) {
	alg, ivHex, ok := strings.Cut(blk.headers["DEK-Info"], ",")
	if !ok || alg == "" {
		return keyInfo{}, false
	}
	iv, err := hex.DecodeString(ivHex)
	if err != nil || (len(iv) != 8 && len(iv) != 16) || len(blk.der)%len(iv) != 0 || len(blk.der) < 64 {
		return keyInfo{}, false
	}
	k := keyInfo{Format: "PEM with OpenSSL encryption", Encrypted: true, Cipher: alg}
	switch {
	case strings.HasPrefix(blk.label, "RSA"):
		k.Type = "RSA"
	case strings.HasPrefix(blk.label, "DSA"):
		k.Type = "DSA"
	case strings.HasPrefix(blk.label, "EC"):
		k.Type = "ECDSA"
	}
	k.setBlobFingerprint(blk.der)
	return k, true
}

// encPKI is PKCS#8 EncryptedPrivateKeyInfo.
type encPKI struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPKCS5      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
	oidPKCS12PBE  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	oidJKSKeyProt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}
	cipherNames   = map[string]string{
		"2.16.840.1.101.3.4.1.2":  "AES-128-CBC",
		"2.16.840.1.101.3.4.1.22": "AES-192-CBC",
		"2.16.840.1.101.3.4.1.42": "AES-256-CBC",
		"1.2.840.113549.3.7":      "DES-EDE3-CBC",
		"1.3.14.3.2.7":            "DES-CBC",
		"1.2.840.113549.1.5.3":    "PBE-MD5-DES",
		"1.2.840.113549.1.5.10":   "PBE-SHA1-DES",
		"1.2.840.113549.1.12.1.3": "PBE-SHA1-3DES",
		"1.2.840.113549.1.12.1.6": "PBE-SHA1-RC2-40",
		"1.3.6.1.4.1.42.2.17.1.1": "JKS key protector",
	}
)

func hasPrefixOID(o, prefix asn1.ObjectIdentifier) bool {
	return len(o) > len(prefix) && o[:len(prefix)].Equal(prefix)
}

// encryptedPKCS8 confirms a PKCS#8 EncryptedPrivateKeyInfo. strict (for
// DER found in binaries) also requires a password-based algorithm.
func encryptedPKCS8(der []byte, strict bool) (keyInfo, bool) {
	var e encPKI
	rest, err := asn1.Unmarshal(der, &e)
	if err != nil || len(rest) != 0 || len(e.Data) < 32 || len(e.Data)%8 != 0 {
		return keyInfo{}, false
	}
	known := hasPrefixOID(e.Algo.Algorithm, oidPKCS5) || hasPrefixOID(e.Algo.Algorithm, oidPKCS12PBE) || e.Algo.Algorithm.Equal(oidJKSKeyProt)
	if strict && !known {
		return keyInfo{}, false
	}
	k := keyInfo{Format: "PKCS#8 encrypted", Encrypted: true, Cipher: cipherNames[e.Algo.Algorithm.String()]}
	if e.Algo.Algorithm.Equal(oidPBES2) {
		var p struct {
			KDF pkix.AlgorithmIdentifier
			Enc pkix.AlgorithmIdentifier
		}
		if _, err := asn1.Unmarshal(e.Algo.Parameters.FullBytes, &p); err == nil {
			k.Cipher = "PBES2 " + cipherNames[p.Enc.Algorithm.String()]
			if cipherNames[p.Enc.Algorithm.String()] == "" {
				k.Cipher += p.Enc.Algorithm.String()
			}
		} else if strict {
			return keyInfo{}, false
		}
	}
	if k.Cipher == "" {
		k.Cipher = e.Algo.Algorithm.String()
	}
	k.setBlobFingerprint(der)
	return k, true
}

const openSSHMagic = "openssh-key-v1\x00"

// openSSHKey parses an "openssh-key-v1" container: unencrypted keys are
// parsed (and checked) by x/crypto/ssh; encrypted ones yield their cipher
// and the public key stored in clear.
func openSSHKey(der []byte) (keyInfo, bool) {
	if !bytes.HasPrefix(der, []byte(openSSHMagic)) {
		return keyInfo{}, false
	}
	w := &wire{b: der[len(openSSHMagic):]}
	cipher := string(w.bytes(64))
	kdf := string(w.bytes(64))
	if w.bad {
		return keyInfo{}, false
	}
	if cipher == "none" && !openSSHRSAPrecheck(w) {
		return keyInfo{}, false
	}
	raw, err := ssh.ParseRawPrivateKey(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: der}))
	k := keyInfo{Format: "OpenSSH"}
	if err == nil {
		if k.fromPrivate(raw) != nil {
			return keyInfo{}, false
		}
		return k, true
	}
	var pme *ssh.PassphraseMissingError
	if !errors.As(err, &pme) || pme.PublicKey == nil || cipher == "none" {
		return keyInfo{}, false
	}
	k.Encrypted = true
	k.Cipher = cipher
	if kdf != "" && kdf != "none" {
		k.Cipher += ", " + kdf
	}
	if cp, ok := pme.PublicKey.(ssh.CryptoPublicKey); ok {
		if k.setPublic(cp.CryptoPublicKey()) != nil {
			return keyInfo{}, false
		}
	}
	k.setFingerprint(pme.PublicKey.Marshal())
	return k, true
}

// openSSHRSAPrecheck cheaply rejects an unencrypted OpenSSH RSA key whose
// n ≠ p·q before x/crypto/ssh validates it. w is positioned after the
// cipher and KDF names.
func openSSHRSAPrecheck(w *wire) bool {
	r := *w
	r.bytes(1 << 16) // KDF options
	if r.uint32() != 1 {
		return true // left to x/crypto/ssh
	}
	r.bytes(1 << 16) // public key
	priv := &wire{b: r.bytes(maxDER)}
	if r.bad {
		return true
	}
	priv.uint32() // check ints
	priv.uint32()
	if string(priv.bytes(64)) != "ssh-rsa" {
		return true
	}
	n, _, _, _, p, q := priv.mpint(), priv.mpint(), priv.mpint(), priv.mpint(), priv.mpint(), priv.mpint()
	return !priv.bad && new(big.Int).Mul(p, q).Cmp(n) == 0
}
