package keys

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"

	"golang.org/x/crypto/pkcs12"
)

// pfxShell is the outer PFX structure, enough to confirm a PKCS#12 file
// before trying to open it.
type pfxShell struct {
	Version  int
	AuthSafe struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	MacData asn1.RawValue `asn1:"optional"`
}

var oidShroudedKeyBag = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02}

// pkcs12Key opens a PKCS#12 (PFX) file with the empty password. If it
// opens and holds a private key, the key is reported under
// RulePKCS12NoPassword. If the password is not empty, or the file uses
// algorithms x/crypto/pkcs12 does not implement (PBES2/AES, SHA-2 MACs),
// but a shrouded key bag is visible, it is reported as an encrypted key.
func pkcs12Key(der []byte) (keyInfo, string, bool) {
	var shell pfxShell
	rest, err := asn1.Unmarshal(der, &shell)
	if err != nil || len(rest) != 0 || shell.Version != 3 {
		return keyInfo{}, "", false
	}
	blocks, err := pkcs12.ToPEM(der, "")
	if err == nil {
		for _, b := range blocks {
			if k, ok := keyFromPKCS12Block(b); ok {
				return k, RulePKCS12NoPassword, true
			}
		}
		return keyInfo{}, "", false
	}
	if !bytes.Contains(der, oidShroudedKeyBag) {
		return keyInfo{}, "", false
	}
	k := keyInfo{Format: "PKCS#12", Encrypted: true, Cipher: "password-protected"}
	var ni pkcs12.NotImplementedError
	if !errors.Is(err, pkcs12.ErrIncorrectPassword) {
		k.Cipher = "not opened"
		if errors.As(err, &ni) {
			k.Note = "empty password not tested: " + string(ni)
		}
	}
	k.setBlobFingerprint(der)
	return k, RuleEncrypted, true
}

func keyFromPKCS12Block(b *pem.Block) (keyInfo, bool) {
	if b.Type != "PRIVATE KEY" {
		return keyInfo{}, false
	}
	var priv any
	var err error
	if priv, err = x509.ParsePKCS1PrivateKey(b.Bytes); err != nil {
		if priv, err = x509.ParseECPrivateKey(b.Bytes); err != nil {
			return keyInfo{}, false
		}
	}
	k := keyInfo{Format: "PKCS#12"}
	if k.fromPrivate(priv) != nil {
		return keyInfo{}, false
	}
	return k, true
}
