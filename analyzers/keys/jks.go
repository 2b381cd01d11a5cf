package keys

import (
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// jksPasswords are the well-known keystore passwords tried on JKS private
// key entries (keytool's documented example and common defaults).
var jksPasswords = []string{"changeit", "", "password", "changeme", "123456", "secret", "android", "keystore"}

// maxJKSEntries bounds the entries read from one keystore.
const maxJKSEntries = 1024

// parseJKS reads a Java keystore (JKS, magic FEEDFEED, or JCEKS, magic
// CECECECE) and returns its first private-key entry. A JKS entry whose key
// protector opens with a well-known password is returned decrypted and
// parsed (Encrypted false); other entries are returned as encrypted.
func parseJKS(b []byte) (keyInfo, bool) {
	if len(b) < 12 {
		return keyInfo{}, false
	}
	magic := binary.BigEndian.Uint32(b)
	version := binary.BigEndian.Uint32(b[4:])
	count := binary.BigEndian.Uint32(b[8:])
	if (magic != 0xFEEDFEED && magic != 0xCECECECE) || (version != 1 && version != 2) || count > maxJKSEntries {
		return keyInfo{}, false
	}
	format := "JKS keystore"
	if magic == 0xCECECECE {
		format = "JCEKS keystore"
	}
	r := &wire{b: b[12:]}
	u16 := func() int {
		if r.bad || len(r.b) < 2 {
			r.bad = true
			return 0
		}
		v := int(binary.BigEndian.Uint16(r.b))
		r.b = r.b[2:]
		return v
	}
	skip := func(n int) []byte {
		if r.bad || n < 0 || n > len(r.b) {
			r.bad = true
			return nil
		}
		s := r.b[:n]
		r.b = r.b[n:]
		return s
	}
	cert := func() {
		if version == 2 {
			skip(u16()) // certificate type
		}
		skip(int(r.uint32()))
	}
	for e := uint32(0); e < count && !r.bad; e++ {
		tag := r.uint32()
		alias := string(skip(u16()))
		skip(8) // timestamp
		switch tag {
		case 1:
			prot := skip(int(r.uint32()))
			if r.bad {
				return keyInfo{}, false
			}
			if k, ok := jksKey(prot, magic == 0xFEEDFEED); ok {
				k.Format = format
				k.Note = fmt.Sprintf("alias %q", alias)
				return k, true
			}
			n := r.uint32()
			if n > maxJKSEntries {
				return keyInfo{}, false
			}
			for range n {
				cert()
			}
		case 2:
			cert()
		default:
			// JCEKS secret keys are serialized Java objects: stop here
			return keyInfo{}, false
		}
	}
	return keyInfo{}, false
}

// jksKey opens a protected key entry (EncryptedPrivateKeyInfo) with the
// well-known passwords (JKS key protector only).
func jksKey(prot []byte, jks bool) (keyInfo, bool) {
	var e encPKI
	rest, err := asn1.Unmarshal(prot, &e)
	if err != nil || len(rest) != 0 || len(e.Data) < 40+32 {
		return keyInfo{}, false
	}
	if jks && e.Algo.Algorithm.Equal(oidJKSKeyProt) {
		for _, pw := range jksPasswords {
			plain, ok := jksDecrypt(e.Data, pw)
			if !ok {
				continue
			}
			priv, err := x509.ParsePKCS8PrivateKey(plain)
			if err != nil {
				continue
			}
			var k keyInfo
			if k.fromPrivate(priv) != nil {
				continue
			}
			k.Cipher = fmt.Sprintf("key password %q", pw)
			return k, true
		}
	}
	k := keyInfo{Encrypted: true, Cipher: cipherNames[e.Algo.Algorithm.String()]}
	if k.Cipher == "" {
		k.Cipher = e.Algo.Algorithm.String()
	}
	k.setBlobFingerprint(prot)
	return k, true
}

// jksDecrypt undoes Sun's JKS key protector: salt(20) ‖ data ‖ check(20),
// keystream = SHA1(pw ‖ salt), SHA1(pw ‖ previous) ..., check =
// SHA1(pw ‖ plaintext), with the password in UTF-16BE.
func jksDecrypt(enc []byte, password string) ([]byte, bool) {
	if len(enc) < 41 {
		return nil, false
	}
	var pw []byte
	for _, c := range utf16.Encode([]rune(password)) {
		pw = append(pw, byte(c>>8), byte(c))
	}
	salt, data, check := enc[:20], enc[20:len(enc)-20], enc[len(enc)-20:]
	plain := make([]byte, len(data))
	digest := salt
	for i := 0; i < len(data); i += 20 {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for j := 0; j < 20 && i+j < len(data); j++ {
			plain[i+j] = data[i+j] ^ digest[j]
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(plain)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil, false
	}
	return plain, true
}
