package hashes

import (
	"errors"
	"strings"
	"testing"
)

// Real vectors, generated on Debian 12 (libxcrypt 4.4.33, OpenSSL 3.0, whois
// 5.5.17's mkpasswd) with:
//
//	des:         python3 -c 'import crypt; print(crypt.crypt(PW, SALT))'
//	md5crypt:    openssl passwd -1 -salt SALT PW
//	apr1:        openssl passwd -apr1 -salt SALT PW
//	sha256crypt: openssl passwd -5 -salt SALT PW; mkpasswd -m sha-256 -R ROUNDS -S SALT PW
//	sha512crypt: openssl passwd -6 -salt SALT PW; mkpasswd -m sha-512 -R ROUNDS -S SALT PW
//	bcrypt:      mkpasswd -m bcrypt[-a] -R COST PW;
//	             python3 -c 'import crypt; print(crypt.crypt(PW, "$2y$04$abcdefghijklmnopqrstuu"))'
//	yescrypt:    mkpasswd -m yescrypt PW
var vectors = []struct {
	kind     Kind
	hash, pw string
}{
	{DES, "abJnggxhB/yWI", "password"},
	{DES, "zzomSJnNUIBgQ", "5up"},
	{DES, "..M2SkZ0NhLUU", "xc3511"},
	{DES, "abmF1QH4PEr.E", ""},

	// TP-Link's default "5up", md5crypt.
	{MD5Crypt, "$1$TPLINK01$VqchsPPG1aPL8/QGHhzR31", "5up"},
	{MD5Crypt, "$1$GTJ7qsZ3$/PgzFkxJ8uPbrYjhJOklx.", "5up"},
	{MD5Crypt, "$1$saltsalt$Y3BMhxQHmg7scgLILa56u1", "admin"},
	{MD5Crypt, "$1$$I2o9Z7NcvQAKp7wyCTlia0", "password"},

	{APR1, "$apr1$hZ3yrK0E$FyMnBQvVwwF5G7qjGCI7y0", "admin"},
	{APR1, "$apr1$abcdefgh$ska7oRraKYJUjqkXwy2NM/", "5up"},

	{SHA256Crypt, "$5$Zte521salt$vN2lis65pbTozH1Gs8J7ViyIM6ztQTlWtWot2kpGQr5", "admin"},
	{SHA256Crypt, "$5$rounds=5000$saltsaltsalt$FJQ.U/.AVWtLmq4x3ffuVz3i41r6RepojC0zCCXV12C", "1234"},
	{SHA256Crypt, "$5$rounds=10000$abcdefghijklmnop$Q4iaQguHkBKeq6/gtEeUTdc.7hIB7wrLjEG4G1riZp0", "root"},

	{SHA512Crypt, "$6$hikvision12345$c9/w6piXT7Qj4uTkaKChc2b.dFJddIeNIFS33xL1pNd/qZx9TWfwi2sZJVQBr5ZlLlwkuQ06Lmp4Fs9yPyEJL/", "12345"},
	{SHA512Crypt, "$6$rounds=1000$rounds1000salt$q9OEDVGjKCXKJ.YWvwFjMCUQ.v9DxipbNdRufbuBV6nDSSdErYphbIW6TuB3VsKPr6hYAiCsh9EwSG/ObwTl2/", "888888"},

	{BCrypt, "$2b$05$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya", "ubnt"},
	{BCrypt, "$2a$05$4AkMRqO8xsK79rK4dxEbt.DWgWX/nPsyKUOfAhxvml./mN3FelOrK", "admin"},
	{BCrypt, "$2b$05$6eVOuElCNmxthX8CO543fu/jQVjlPS.Axne/UTg30T87.8YTpLHNS", "5up"},
	{BCrypt, "$2y$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm", "password"},

	{Yescrypt, "$y$j9T$WO4D82eQlB7zQ7KSdA1Dg0$KIRqcwcvJRrP8rIDUMqonLB5emKeMgkfw2jdeW4b6i7", "admin"},
	{Yescrypt, "$y$j9T$KVPjtDd5.NhvDYZmPbQX71$kfh4QBXVp6LxitZmCj4D4OST4JU9bq0D3v21Zh587x.", "xc3511"},
}

func TestVectors(t *testing.T) {
	seen := map[Kind]bool{}
	for _, v := range vectors {
		seen[v.kind] = true
		if got := Identify(v.hash); got != v.kind {
			t.Errorf("Identify(%q) = %q, want %q", v.hash, got, v.kind)
		}
		ver, err := NewVerifier(v.hash)
		if err != nil {
			t.Errorf("NewVerifier(%q): %v", v.hash, err)
			continue
		}
		if ver.Kind() != v.kind {
			t.Errorf("NewVerifier(%q).Kind() = %q, want %q", v.hash, ver.Kind(), v.kind)
		}
		if !ver.Verify(v.pw) {
			t.Errorf("%s %q: Verify(%q) = false", v.kind, v.hash, v.pw)
		}
		for _, wrong := range []string{"X" + v.pw, strings.ToUpper(v.pw) + "X"} {
			if ver.Verify(wrong) {
				t.Errorf("%s %q: Verify(%q) = true", v.kind, v.hash, wrong)
			}
		}
	}
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("no vector for kind %q", k)
		}
	}
}

// crypt(3) takes C strings: a NUL ends the candidate.
func TestNULEndsPassword(t *testing.T) {
	for _, h := range []string{
		"zzomSJnNUIBgQ",
		"$1$TPLINK01$VqchsPPG1aPL8/QGHhzR31",
		"$apr1$abcdefgh$ska7oRraKYJUjqkXwy2NM/",
	} {
		v, err := NewVerifier(h)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Verify("5up\x00junk") {
			t.Errorf("%s: \"5up\\x00junk\" not treated as \"5up\"", v.Kind())
		}
	}
}

// The apr1 code is plain md5crypt with another magic: check it against
// go-crypt's md5crypt vectors too.
func TestMD5CryptKeyAgainstMD5Crypt(t *testing.T) {
	for _, v := range vectors {
		if v.kind != MD5Crypt {
			continue
		}
		parts := strings.Split(v.hash, "$")
		if got := md5CryptKey(v.pw, parts[2], "$1$"); got != parts[3] {
			t.Errorf("md5CryptKey(%q, %q) = %q, want %q", v.pw, parts[2], got, parts[3])
		}
	}
}

func TestIdentify(t *testing.T) {
	for h, want := range map[string]Kind{
		"":                                    Unknown,
		"*":                                   Unknown,
		"!":                                   Unknown,
		"!!":                                  Unknown,
		"x":                                   Unknown,
		"*LK*":                                Unknown,
		"!abJnggxhB/yWI":                      Unknown, // locked
		"!$1$TPLINK01$VqchsPPG1aPL8/QGHhzR31": Unknown,
		"abJnggxhB/yW":                        Unknown, // 12 chars
		"abJnggxhB/yW!":                       Unknown,
		"$2x$05$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya": Unknown,
		"$md5$rounds=904$abc$def":                                      Unknown,
		"$7$CU..../....abc$def":                                        Unknown,
		"$gy$j9T$salt$hash":                                            Unknown,
		"$2$05$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya":  Unknown,
		"_J9..CCCCXBrJUJV154M":                                         Unknown, // BSDi extended DES
		"abJnggxhB/yWI":                                                DES,
		"$1$x$y":                                                       MD5Crypt,
		"$apr1$x$y":                                                    APR1,
		"$5$x$y":                                                       SHA256Crypt,
		"$6$x$y":                                                       SHA512Crypt,
		"$2a$x":                                                        BCrypt,
		"$2b$x":                                                        BCrypt,
		"$2y$x":                                                        BCrypt,
		"$y$x":                                                         Yescrypt,
	} {
		if got := Identify(h); got != want {
			t.Errorf("Identify(%q) = %q, want %q", h, got, want)
		}
	}
}

func TestNewVerifierErrors(t *testing.T) {
	for _, h := range []string{
		"", "*", "!", "x", "!abJnggxhB/yWI",
	} {
		if _, err := NewVerifier(h); !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewVerifier(%q) err = %v, want ErrUnsupported", h, err)
		}
	}
	for _, h := range []string{
		"abJnggxhB/yWJ", // DES with non-zero padding bits
		"$1$x",
		"$apr1$x$y",
		"$apr1$toolongsalt$FyMnBQvVwwF5G7qjGCI7y0",
		"$5$rounds=abc$salt$key",
		"$5$rounds=10$salt$key", // below the minimum of 1000
		"$6$salt",
		"$2b$99$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya",
		"$2b$05$short",
		"$y$j9T$salt",
		"$y$jZZ$WO4D82eQlB7zQ7KSdA1Dg0$KIRqcwcvJRrP8rIDUMqonLB5emKeMgkfw2jdeW4b6i7",
		"$y$j9T$WO4D82eQlB7zQ7KSdA1Dg0$short",
	} {
		if v, err := NewVerifier(h); err == nil {
			t.Errorf("NewVerifier(%q) = %v, want error", h, v)
		} else if errors.Is(err, ErrUnsupported) {
			t.Errorf("NewVerifier(%q): got ErrUnsupported for a recognised kind: %v", h, err)
		}
	}
}

func TestSlow(t *testing.T) {
	for _, k := range Kinds {
		want := k == BCrypt || k == Yescrypt
		if Slow(k) != want {
			t.Errorf("Slow(%q) = %v", k, !want)
		}
	}
	for h, want := range map[string]bool{
		"abJnggxhB/yWI": false,
		"$6$rounds=656000$ABCDEFGHIJKLMNOP$iWCxaXgsrqmnBWFBK68KXvc5yAtjRa15o93vqRnfYMW37gGqeO.DtqrqoKbPbCzQx26nfZPXkAunmvdxfGwfd0": true,
		"$5$rounds=10000$abcdefghijklmnop$Q4iaQguHkBKeq6/gtEeUTdc.7hIB7wrLjEG4G1riZp0":                                             false,
		"$5$Zte521salt$vN2lis65pbTozH1Gs8J7ViyIM6ztQTlWtWot2kpGQr5":                                                                false,
		"$2b$05$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya":                                                             true,
		"$y$j9T$WO4D82eQlB7zQ7KSdA1Dg0$KIRqcwcvJRrP8rIDUMqonLB5emKeMgkfw2jdeW4b6i7":                                                true,
	} {
		if got := SlowHash(h); got != want {
			t.Errorf("SlowHash(%q) = %v, want %v", h, got, want)
		}
	}
}

// A high-rounds sha512crypt hash still verifies (python3 crypt.crypt("vizxv",
// "$6$rounds=656000$ABCDEFGHIJKLMNOP$")).
func TestSHA512HighRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	v, err := NewVerifier("$6$rounds=656000$ABCDEFGHIJKLMNOP$iWCxaXgsrqmnBWFBK68KXvc5yAtjRa15o93vqRnfYMW37gGqeO.DtqrqoKbPbCzQx26nfZPXkAunmvdxfGwfd0")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Verify("vizxv") {
		t.Error("Verify(\"vizxv\") = false")
	}
}

func benchVerify(b *testing.B, hash, pw string) {
	v, err := NewVerifier(hash)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		v.Verify(pw)
	}
}

func BenchmarkDES(b *testing.B)      { benchVerify(b, "zzomSJnNUIBgQ", "xmhdipc") }
func BenchmarkMD5Crypt(b *testing.B) { benchVerify(b, "$1$TPLINK01$VqchsPPG1aPL8/QGHhzR31", "xmhdipc") }
func BenchmarkAPR1(b *testing.B)     { benchVerify(b, "$apr1$abcdefgh$ska7oRraKYJUjqkXwy2NM/", "xmhdipc") }
func BenchmarkSHA512Crypt(b *testing.B) {
	benchVerify(b, "$6$hikvision12345$c9/w6piXT7Qj4uTkaKChc2b.dFJddIeNIFS33xL1pNd/qZx9TWfwi2sZJVQBr5ZlLlwkuQ06Lmp4Fs9yPyEJL/", "xmhdipc")
}
func BenchmarkBCrypt5(b *testing.B) {
	benchVerify(b, "$2b$05$abcdefghijklmnopqrstuu94ibSOgenLHMDq.QxLukkj2gkl8U7ya", "xmhdipc")
}
