package keys

// Test keys are generated at run time; only the PKCS#12 fixtures in
// testdata/ (a throwaway key, see testdata/README.md) are committed.

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still shipped in firmware
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/ssh"
)

type testKeys struct {
	rsa   *rsa.PrivateKey
	rsa2  *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	ec384 *ecdsa.PrivateKey
	ed    ed25519.PrivateKey
	dsa   *dsa.PrivateKey
}

var (
	genOnce sync.Once
	gen     testKeys
)

// keysForTest generates the test keys once per test binary.
func keysForTest(t testing.TB) testKeys {
	t.Helper()
	genOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		gen.rsa, err = rsa.GenerateKey(rand.Reader, 1024)
		must(err)
		gen.rsa2, err = rsa.GenerateKey(rand.Reader, 1024)
		must(err)
		gen.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		gen.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		_, gen.ed, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		gen.dsa = new(dsa.PrivateKey)
		must(dsa.GenerateParameters(&gen.dsa.Parameters, rand.Reader, dsa.L1024N160))
		must(dsa.GenerateKey(gen.dsa, rand.Reader))
		if err != nil {
			panic(err)
		}
	})
	return gen
}

// sshFP is what ssh-keygen -l prints for pub.
func sshFP(t testing.TB, pub any) string {
	t.Helper()
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(sp)
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs1PEM(k *rsa.PrivateKey) string {
	return pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
}

func pkcs8PEM(t testing.TB, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", der)
}

func sec1PEM(t testing.TB, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("EC PRIVATE KEY", der)
}

func dsaDERBytes(t testing.TB, k *dsa.PrivateKey) []byte {
	t.Helper()
	der, err := asn1.Marshal(dsaDER{P: k.P, Q: k.Q, G: k.G, Y: k.Y, X: k.X})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func openSSHPEM(t testing.TB, k any, passphrase string) string {
	t.Helper()
	var (
		b   *pem.Block
		err error
	)
	if passphrase == "" {
		b, err = ssh.MarshalPrivateKey(k, "test")
	} else {
		b, err = ssh.MarshalPrivateKeyWithPassphrase(k, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(b))
}

// legacyEncryptedPEM is what "openssl rsa -aes256" writes.
func legacyEncryptedPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	//nolint:staticcheck // legacy PEM encryption is exactly what we detect
	b, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k), []byte("secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(b))
}

// encryptedPKCS8PEM builds a PBES2/AES-256-CBC EncryptedPrivateKeyInfo with
// random ciphertext: structurally what "openssl pkcs8 -topk8" writes.
func encryptedPKCS8PEM(t testing.TB) string {
	t.Helper()
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	salt := make([]byte, 16)
	iv := make([]byte, 16)
	rand.Read(salt)
	rand.Read(iv)
	kdfParams, _ := asn1.Marshal(struct {
		Salt  []byte
		Iter  int
		Prf   algID
		Dummy asn1.RawValue `asn1:"optional"`
	}{Salt: salt, Iter: 2048, Prf: algID{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}}})
	ivDER, _ := asn1.Marshal(iv)
	params, _ := asn1.Marshal(struct{ KDF, Enc algID }{
		KDF: algID{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Enc: algID{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	data := make([]byte, 656)
	rand.Read(data)
	der, err := asn1.Marshal(struct {
		Algo algID
		Data []byte
	}{Algo: algID{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("ENCRYPTED PRIVATE KEY", der)
}

// SSH wire encoding.

func sshString(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	return append(out, b...)
}

func sshMpint(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return sshString(b)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func ecPoint(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	p, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ecD(t testing.TB, k *ecdsa.PrivateKey) *big.Int {
	t.Helper()
	d, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(d)
}

func sshCurveName(k *ecdsa.PrivateKey) string {
	return "nistp" + strings.TrimPrefix(k.Curve.Params().Name, "P-")
}

// dropbear's binary key format.

func dropbearRSA(k *rsa.PrivateKey, withPQ bool) []byte {
	b := cat(sshString([]byte("ssh-rsa")), sshMpint(big.NewInt(int64(k.E))), sshMpint(k.N), sshMpint(k.D))
	if withPQ {
		b = cat(b, sshMpint(k.Primes[0]), sshMpint(k.Primes[1]))
	}
	return b
}

func dropbearDSS(k *dsa.PrivateKey) []byte {
	return cat(sshString([]byte("ssh-dss")), sshMpint(k.P), sshMpint(k.Q), sshMpint(k.G), sshMpint(k.Y), sshMpint(k.X))
}

func dropbearECDSA(t testing.TB, k *ecdsa.PrivateKey) []byte {
	c := sshCurveName(k)
	return cat(sshString([]byte("ecdsa-sha2-"+c)), sshString([]byte(c)), sshString(ecPoint(t, k)), sshMpint(ecD(t, k)))
}

func dropbearEd25519(k ed25519.PrivateKey) []byte {
	return cat(sshString([]byte("ssh-ed25519")), sshString(k)) // seed ‖ public
}

// PuTTY .ppk files.

func wrap64(s string) []string {
	var out []string
	for len(s) > 64 {
		out = append(out, s[:64])
		s = s[64:]
	}
	return append(out, s)
}

func ppk(version, algo, encryption string, pub, pri []byte) string {
	pl := wrap64(base64.StdEncoding.EncodeToString(pub))
	rl := wrap64(base64.StdEncoding.EncodeToString(pri))
	var sb strings.Builder
	sb.WriteString("PuTTY-User-Key-File-" + version + ": " + algo + "\n")
	sb.WriteString("Encryption: " + encryption + "\n")
	if version == "3" && encryption != "none" {
		sb.WriteString("Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 13\nArgon2-Parallelism: 1\nArgon2-Salt: 0011223344556677\n")
	}
	sb.WriteString("Comment: test-key\n")
	sb.WriteString("Public-Lines: " + itoa(len(pl)) + "\n" + strings.Join(pl, "\n") + "\n")
	sb.WriteString("Private-Lines: " + itoa(len(rl)) + "\n" + strings.Join(rl, "\n") + "\n")
	sb.WriteString("Private-MAC: " + strings.Repeat("ab", 32) + "\n")
	return sb.String()
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

func sshPubBlob(t testing.TB, pub any) []byte {
	t.Helper()
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp.Marshal()
}

func ppkRSA(t testing.TB, k *rsa.PrivateKey) string {
	iqmp := new(big.Int).ModInverse(k.Primes[1], k.Primes[0])
	pri := cat(sshMpint(k.D), sshMpint(k.Primes[0]), sshMpint(k.Primes[1]), sshMpint(iqmp))
	return ppk("2", "ssh-rsa", "none", sshPubBlob(t, &k.PublicKey), pri)
}

func ppkEd25519(t testing.TB, k ed25519.PrivateKey) string {
	return ppk("3", "ssh-ed25519", "none", sshPubBlob(t, k.Public()), sshString(k.Seed()))
}

func ppkECDSA(t testing.TB, k *ecdsa.PrivateKey) string {
	return ppk("3", "ecdsa-sha2-"+sshCurveName(k), "none", sshPubBlob(t, &k.PublicKey), sshMpint(ecD(t, k)))
}

func ppkEncrypted(t testing.TB, version string, k *rsa.PrivateKey) string {
	pri := make([]byte, 336)
	rand.Read(pri)
	return ppk(version, "ssh-rsa", "aes256-cbc", sshPubBlob(t, &k.PublicKey), pri)
}

// Java keystores.

// jksProtect is the inverse of jksDecrypt.
func jksProtect(plain []byte, password string) []byte {
	var pw []byte
	for _, c := range utf16.Encode([]rune(password)) {
		pw = append(pw, byte(c>>8), byte(c))
	}
	salt := make([]byte, 20)
	rand.Read(salt)
	out := append([]byte{}, salt...)
	digest := salt
	for i := 0; i < len(plain); i += 20 {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for j := 0; j < 20 && i+j < len(plain); j++ {
			out = append(out, plain[i+j]^digest[j])
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(plain)
	return h.Sum(out)
}

// jksFile builds a JKS keystore with one trusted certificate entry and one
// private key entry protected with password.
func jksFile(t testing.TB, k any, password string) []byte {
	t.Helper()
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	prot, err := asn1.Marshal(struct {
		Algo struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue
		}
		Data []byte
	}{Algo: struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue
	}{Algorithm: oidJKSKeyProt, Parameters: asn1.NullRawValue}, Data: jksProtect(p8, password)})
	if err != nil {
		t.Fatal(err)
	}
	u16 := func(s string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...) }
	u32 := func(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	cert := []byte("not really a certificate")
	b := cat([]byte{0xfe, 0xed, 0xfe, 0xed}, u32(2), u32(2),
		u32(2), u16("ca"), make([]byte, 8), u16("X.509"), u32(len(cert)), cert,
		u32(1), u16("server"), make([]byte, 8), u32(len(prot)), prot, u32(1), u16("X.509"), u32(len(cert)), cert,
		make([]byte, 20))
	return b
}
