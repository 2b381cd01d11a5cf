// Package hashes identifies Unix crypt(3) password hashes, as found in the
// passwd and shadow files of firmware images, and verifies candidate
// passwords against them.
//
// A Verifier parses its hash once and is then used to test many candidate
// passwords (for example the default-password dictionary in
// rules/passwords), so per-candidate work is only the hash computation.
//
// Supported kinds and the code behind them:
//
//	des          traditional 13-character DES crypt   analyzers/accounts/descrypt
//	md5crypt     $1$                                  github.com/go-crypt/crypt (md5crypt)
//	apr1         $apr1$ (Apache's md5crypt variant)   this package (go-crypt lacks it)
//	sha256crypt  $5$[rounds=N$]                       github.com/go-crypt/crypt (shacrypt)
//	sha512crypt  $6$[rounds=N$]                       github.com/go-crypt/crypt (shacrypt)
//	bcrypt       $2a$, $2b$, $2y$                     github.com/go-crypt/crypt (bcrypt)
//	yescrypt     $y$ (libxcrypt's "j" parameter form) github.com/go-crypt/x/yescrypt
//
// As with crypt(3), which takes C strings, a candidate password ends at its
// first NUL byte.
package hashes

import (
	"crypto/md5"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-crypt/crypt/algorithm"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/md5crypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
	"github.com/go-crypt/x/yescrypt"

	"github.com/fwaudit/fwaudit/analyzers/accounts/descrypt"
)

// Kind is the algorithm of a crypt(3) hash.
type Kind string

// The hash kinds recognised by Identify.
const (
	DES         Kind = "des"
	MD5Crypt    Kind = "md5crypt"
	APR1        Kind = "apr1"
	SHA256Crypt Kind = "sha256crypt"
	SHA512Crypt Kind = "sha512crypt"
	BCrypt      Kind = "bcrypt"
	Yescrypt    Kind = "yescrypt"
	Unknown     Kind = "unknown"
)

// Kinds lists every kind that NewVerifier supports.
var Kinds = []Kind{DES, MD5Crypt, APR1, SHA256Crypt, SHA512Crypt, BCrypt, Yescrypt}

// SlowRounds is the sha256crypt/sha512crypt rounds count above which SlowHash
// reports a hash as slow (the default is 5000).
const SlowRounds = 50000

// ErrUnsupported is returned by NewVerifier for a hash of kind Unknown.
var ErrUnsupported = errors.New("hashes: unsupported or unrecognised hash")

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Identify returns the kind of a crypt(3) hash from its prefix (and, for DES,
// its length and alphabet). It does not fully validate the hash; NewVerifier
// does. Values that lock an account or mean "no password here" ("*", "!",
// "x", "!!", "", and hashes with a leading "!" lock marker) are Unknown:
// callers that want to test the hash behind a lock marker strip it first.
func Identify(hash string) Kind {
	switch {
	case strings.HasPrefix(hash, "$1$"):
		return MD5Crypt
	case strings.HasPrefix(hash, "$apr1$"):
		return APR1
	case strings.HasPrefix(hash, "$5$"):
		return SHA256Crypt
	case strings.HasPrefix(hash, "$6$"):
		return SHA512Crypt
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return BCrypt
	case strings.HasPrefix(hash, "$y$"):
		return Yescrypt
	case len(hash) == descrypt.HashLen && allIn(hash, itoa64):
		return DES
	}
	return Unknown
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Slow reports whether hashes of kind k are deliberately expensive (tens of
// milliseconds or more per guess), so that a caller should test only a short
// prefix of a dictionary against them.
func Slow(k Kind) bool {
	return k == BCrypt || k == Yescrypt
}

// SlowHash is like Slow(Identify(hash)) but also reports sha256crypt and
// sha512crypt hashes with more than SlowRounds rounds as slow.
func SlowHash(hash string) bool {
	k := Identify(hash)
	if Slow(k) {
		return true
	}
	if k != SHA256Crypt && k != SHA512Crypt {
		return false
	}
	params, _, _ := strings.Cut(hash[3:], "$")
	if v, ok := strings.CutPrefix(params, "rounds="); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		return err != nil || n > SlowRounds
	}
	return false
}

// Verifier checks candidate passwords against one parsed hash. Verifiers are
// safe for concurrent use.
type Verifier interface {
	Kind() Kind
	Verify(password string) bool
}

// NewVerifier parses hash and returns a Verifier for it. It fails with an
// error wrapping ErrUnsupported for an unrecognised hash, or with a parse
// error for a malformed one.
func NewVerifier(hash string) (Verifier, error) {
	k := Identify(hash)
	var (
		d   algorithm.Digest
		err error
	)
	switch k {
	case DES:
		h, err := descrypt.Parse(hash)
		if err != nil {
			return nil, err
		}
		return desVerifier{h}, nil
	case APR1:
		return newAPR1(hash)
	case Yescrypt:
		return newYescrypt(hash)
	case MD5Crypt:
		d, err = md5crypt.DecodeVariant(md5crypt.VariantStandard)(hash)
	case SHA256Crypt:
		d, err = shacrypt.DecodeVariant(shacrypt.VariantSHA256)(hash)
	case SHA512Crypt:
		d, err = shacrypt.DecodeVariant(shacrypt.VariantSHA512)(hash)
	case BCrypt:
		d, err = bcrypt.DecodeVariant(bcrypt.VariantStandard)(hash)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, truncate(hash))
	}
	if err != nil {
		return nil, err
	}
	return digestVerifier{kind: k, digest: d}, nil
}

func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

// cString cuts s at its first NUL byte, as crypt(3) sees a C string.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

type desVerifier struct{ h *descrypt.Hash }

func (desVerifier) Kind() Kind              { return DES }
func (v desVerifier) Verify(pw string) bool { return v.h.Verify(pw) } // descrypt already stops at NUL

// digestVerifier wraps a go-crypt digest.
type digestVerifier struct {
	kind   Kind
	digest algorithm.Digest
}

func (v digestVerifier) Kind() Kind { return v.kind }

func (v digestVerifier) Verify(pw string) bool {
	return v.digest.Match(cString(pw))
}

// apr1Verifier implements Apache's $apr1$ variant of md5crypt, which differs
// from $1$ only in the magic string mixed into the first digest. go-crypt
// v0.4.15 does not support it.
type apr1Verifier struct {
	salt string
	hash string // the 22-character encoded result
}

const apr1Magic = "$apr1$"

func newAPR1(hash string) (Verifier, error) {
	rest := hash[len(apr1Magic):]
	salt, enc, ok := strings.Cut(rest, "$")
	if !ok || len(salt) > 8 || len(enc) != 22 || !allIn(enc, itoa64) {
		return nil, fmt.Errorf("hashes: malformed apr1 hash %q", truncate(hash))
	}
	return apr1Verifier{salt: salt, hash: enc}, nil
}

func (apr1Verifier) Kind() Kind { return APR1 }

func (v apr1Verifier) Verify(pw string) bool {
	got := md5CryptKey(cString(pw), v.salt, apr1Magic)
	return subtle.ConstantTimeCompare([]byte(got), []byte(v.hash)) == 1
}

// md5CryptKey is Poul-Henning Kamp's md5crypt with a configurable magic
// string; it returns the 22-character encoded result.
func md5CryptKey(password, saltStr, magic string) string {
	pw, salt := []byte(password), []byte(saltStr)
	alt := md5.Sum([]byte(password + saltStr + password))

	h := md5.New()
	h.Write([]byte(password + magic + saltStr))
	for n := len(pw); n > 0; n -= 16 {
		h.Write(alt[:min(n, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write([]byte{pw[0]})
		}
	}
	var final [md5.Size]byte
	h.Sum(final[:0])

	for i := 0; i < 1000; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(pw)
		} else {
			h.Write(final[:])
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(pw)
		}
		if i&1 != 0 {
			h.Write(final[:])
		} else {
			h.Write(pw)
		}
		h.Sum(final[:0])
	}

	out := make([]byte, 0, 22)
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out = append(out, itoa64[v&0x3f])
			v >>= 6
		}
	}
	f := final
	to64(uint32(f[0])<<16|uint32(f[6])<<8|uint32(f[12]), 4)
	to64(uint32(f[1])<<16|uint32(f[7])<<8|uint32(f[13]), 4)
	to64(uint32(f[2])<<16|uint32(f[8])<<8|uint32(f[14]), 4)
	to64(uint32(f[3])<<16|uint32(f[9])<<8|uint32(f[15]), 4)
	to64(uint32(f[4])<<16|uint32(f[10])<<8|uint32(f[5]), 4)
	to64(uint32(f[11]), 2)
	return string(out)
}

// yescryptVerifier uses go-crypt/x's yescrypt, which supports the "$y$j..."
// parameter form that libxcrypt generates (N = 2^10 .. 2^18, r = 1 .. 32).
type yescryptVerifier struct {
	setting []byte // "$y$<params>$<salt>"
	hash    []byte // the whole hash
}

func newYescrypt(hash string) (Verifier, error) {
	bad := func(why string) error {
		return fmt.Errorf("hashes: unsupported yescrypt hash %q: %s", truncate(hash), why)
	}
	parts := strings.Split(hash, "$")
	// "", "y", params, salt, key
	if len(parts) != 5 {
		return nil, bad("want $y$params$salt$hash")
	}
	_, nlog2, r, err := yescrypt.DecodeSetting([]byte(parts[2]))
	if err != nil {
		return nil, bad(err.Error())
	}
	if nlog2 < 10 || nlog2 > 18 || r < 1 || r > 32 {
		return nil, bad("N or r out of the supported range")
	}
	if parts[3] == "" || yescrypt.Decode64([]byte(parts[3])) == nil {
		return nil, bad("bad salt encoding")
	}
	if len(parts[4]) != 43 || !allIn(parts[4], itoa64) {
		return nil, bad("bad hash encoding")
	}
	return yescryptVerifier{
		setting: []byte(hash[:len(hash)-len(parts[4])-1]),
		hash:    []byte(hash),
	}, nil
}

func (yescryptVerifier) Kind() Kind { return Yescrypt }

func (v yescryptVerifier) Verify(pw string) bool {
	got, err := yescrypt.Hash([]byte(cString(pw)), v.setting)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, v.hash) == 1
}
