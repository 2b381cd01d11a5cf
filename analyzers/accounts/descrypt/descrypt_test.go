package descrypt

import (
	"crypto/des"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// Known-answer vectors. Produced on Debian (libxcrypt 4.4) with
//
//	python3 -W ignore -c 'import crypt; print(crypt.crypt(PASSWORD, SALT))'
//
// (Python 3.11's crypt module; str passwords are passed to crypt(3) as UTF-8)
// and, for raw high-bit bytes, with
//
//	perl -e 'print crypt("\xc1\xe2\xe3", "x9"), "\n"'
var vectors = []struct {
	password, salt, hash string
}{
	{"", "ab", "abmF1QH4PEr.E"},
	{"pw", "ab", "abzlUXK5ed5rs"},
	{"password", "ab", "abJnggxhB/yWI"},
	{"admin", "./", "./nlIXYriZaB2"},
	{"12345678", "./", "./qw5JW./79Vg"},
	{"123456789", "./", "./qw5JW./79Vg"}, // truncated to 8 characters
	{"5up", "zz", "zzomSJnNUIBgQ"},
	{"root", "zz", "zzec3WQEJ.8Bs"},
	{"xc3511", "..", "..M2SkZ0NhLUU"},
	{"vizxv", "9Z", "9Z6QrOvFyf6zc"},
	{"juantech", "a.", "a.e8FhdZ5Je0w"},
	{"7ujMko0admin", ".z", ".zLh4AlSTm2hM"},
	{"7ujMko0vizxv", "Az", "Azkfnp/2buym6"},
	{"ThisIsAVeryLongPassword", "Zz", "ZzOzdqh6jqxYM"},
	{"\u00e9t\u00e9", "HX", "HXeqWo9.zmhKw"}, // UTF-8 "été": high-bit bytes
	{"\u00c1", "ab", "abUHsd6EC0OdY"},
	{"Zte521", "0y", "0yVDXoOnMrz.k"},
	{"hi3518", "Hk", "Hk5NKq3iQS7SQ"},
	{"a", "zz", "zzJZ5PtvFqi9o"},
	{"!@#$%^&*", "Ab", "AbQK6nav9xvCI"},
	{" ", "./", "./3DV0WYpFNSE"},
	{"test", "aa", "aaqPiZY5xR5l."},
	{"\xc1\xe2\xe3", "x9", "x9YGdUXIknChY"}, // perl; high bit ignored: == "Abc"
	{"Abc", "x9", "x9YGdUXIknChY"},
	{"ABC", "x9", "x9A3n2bRyjh7E"},
	{"\xe1", "x9", "x9q.RXWSqBof2"}, // perl; == "a"
	{"\xff\xff\xff\xff\xff\xff\xff\xff", "x9", "x9HCQp0txYcC2"},
	{"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "x9", "x9HCQp0txYcC2"},
}

func TestCryptVectors(t *testing.T) {
	for _, v := range vectors {
		got, err := Crypt(v.password, v.salt)
		if err != nil {
			t.Fatalf("Crypt(%q, %q): %v", v.password, v.salt, err)
		}
		if got != v.hash {
			t.Errorf("Crypt(%q, %q) = %q, want %q", v.password, v.salt, got, v.hash)
		}
		// A full hash may be passed as the salt, as with crypt(3).
		if got, _ := Crypt(v.password, v.hash); got != v.hash {
			t.Errorf("Crypt(%q, %q) = %q, want %q", v.password, v.hash, got, v.hash)
		}
		if !Verify(v.hash, v.password) {
			t.Errorf("Verify(%q, %q) = false", v.hash, v.password)
		}
		if Verify(v.hash, v.password+"x") && len(v.password) < MaxPasswordLen {
			t.Errorf("Verify(%q, %q+\"x\") = true", v.hash, v.password)
		}
		h, err := Parse(v.hash)
		if err != nil {
			t.Fatalf("Parse(%q): %v", v.hash, err)
		}
		if h.String() != v.hash || h.Salt() != v.salt {
			t.Errorf("Parse(%q) round trip: %q salt %q", v.hash, h.String(), h.Salt())
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	for _, hash := range []string{
		"",
		"ab",
		"abJnggxhB/yW",   // 12 chars
		"abJnggxhB/yWI.", // 14 chars
		"abJnggxhB/yW!",  // bad character
		"a!JnggxhB/yWI",  // bad salt character
		"abJnggxhB/yWJ",  // non-zero padding bits in last character
		"$1$abJnggxhB/y",
		"*",
		"!",
		"x",
	} {
		if Verify(hash, "password") {
			t.Errorf("Verify(%q, \"password\") = true", hash)
		}
		if _, err := Parse(hash); err == nil {
			t.Errorf("Parse(%q) succeeded", hash)
		}
	}
	if Verify("abJnggxhB/yWI", "Password") {
		t.Error("wrong password verified")
	}
}

func TestCryptBadSalt(t *testing.T) {
	for _, s := range []string{"", "a", "a!", "!a", "a$", " a", "\x00\x00", "\xffa"} {
		if h, err := Crypt("pw", s); err == nil {
			t.Errorf("Crypt(\"pw\", %q) = %q, want error", s, h)
		}
	}
}

func TestNULTerminates(t *testing.T) {
	a, _ := Crypt("ab\x00cd", "zz")
	b, _ := Crypt("ab", "zz")
	if a != b {
		t.Errorf("NUL did not terminate the password: %q != %q", a, b)
	}
}

// With a zero salt and a single iteration the core must be plain DES of a
// zero block, which crypto/des computes independently.
func TestCoreMatchesCryptoDES(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var zero [8]byte
	for n := 0; n < 200; n++ {
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], rng.Uint64())
		pw := make([]byte, 8)
		for i := range pw {
			pw[i] = key[i] >> 1
			if pw[i] == 0 {
				pw[i] = 1 // avoid the NUL terminator
			}
			key[i] = pw[i] << 1
		}
		c, err := des.NewCipher(key[:])
		if err != nil {
			t.Fatal(err)
		}
		var want [8]byte
		c.Encrypt(want[:], zero[:])
		var ks [16]uint64
		keySchedule(string(pw), &ks)
		if got := encrypt(&ks, 0, 1); got != binary.BigEndian.Uint64(want[:]) {
			t.Fatalf("key %x: got %016x, want %x", key, got, want)
		}
	}
}

func FuzzCrypt(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.password, v.salt)
	}
	f.Add("", "")
	f.Add("x", "!")
	f.Fuzz(func(t *testing.T, password, salt string) {
		h, err := Crypt(password, salt)
		valid := len(salt) >= 2 && strings.IndexByte(itoa64, salt[0]) >= 0 && strings.IndexByte(itoa64, salt[1]) >= 0
		if valid != (err == nil) {
			t.Fatalf("Crypt(%q, %q): err = %v, salt valid = %v", password, salt, err, valid)
		}
		if err != nil {
			if Verify(salt, password) && len(salt) == HashLen {
				t.Fatalf("Verify accepted invalid hash %q", salt)
			}
			return
		}
		if len(h) != HashLen || h[:2] != salt[:2] {
			t.Fatalf("Crypt(%q, %q) = %q: bad shape", password, salt, h)
		}
		if !Verify(h, password) {
			t.Fatalf("Verify(Crypt(%q, %q) = %q) = false", password, salt, h)
		}
		// Verify must never panic on arbitrary input.
		_ = Verify(salt, password)
		_ = Verify(password, salt)
	})
}

func BenchmarkCrypt(b *testing.B) {
	for b.Loop() {
		if _, err := Crypt("xmhdipc", "ab"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHashVerify(b *testing.B) {
	h, err := Parse("zzomSJnNUIBgQ")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		h.Verify("xmhdipc")
	}
}
