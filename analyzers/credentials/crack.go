package credentials

import (
	"context"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
)

// verifier checks candidate passwords against one stored hash.
type verifier interface {
	Kind() string
	Verify(pw string) bool
	Slow() bool
}

// Cost bounds: hashes above them are reported as not tried, since one
// guess could take seconds or hours (a hostile file can ask for bcrypt cost
// 31 or a billion sha-crypt rounds).
// (Variables so that the fuzz test can lower them.)
var (
	maxPBKDF2Iter = 100_000
)

// Time budgets for cracking: per hash and per run.
var (
	hashBudget = 3 * time.Second
	runBudget  = 30 * time.Second
)

var (
	mosq6 = regexp.MustCompile(`^\$6\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]{86}==)$`)
	mosq7 = regexp.MustCompile(`^\$7\$([0-9]{1,10})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]{86}==)$`)
	shaB  = regexp.MustCompile(`^\{SHA\}([A-Za-z0-9+/]{27}=)$`)
	hex32 = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
)

// newVerifier returns a verifier for secret when it is a password hash of a
// kind fwaudit can test: mosquitto $6$/$7$, htpasswd {SHA}, htdigest (with
// realm), and the crypt(3) kinds of analyzers/accounts/hashes. allowDES says
// whether a bare 13-character string may be a DES hash (user:hash files, not
// configuration values).
func newVerifier(secret, user, realm string, hasRealm, allowDES bool) (verifier, bool) {
	if hasRealm {
		if !hex32.MatchString(secret) {
			return nil, false
		}
		want, _ := hex.DecodeString(secret)
		return &digestV{user: user, realm: realm, want: want}, true
	}
	if m := mosq6.FindStringSubmatch(secret); m != nil {
		salt, err1 := base64.StdEncoding.DecodeString(m[1])
		want, err2 := base64.StdEncoding.DecodeString(m[2])
		if err1 == nil && err2 == nil && len(want) == sha512.Size {
			return &mosqV{salt: salt, want: want}, true
		}
	}
	if m := mosq7.FindStringSubmatch(secret); m != nil {
		iter, err := strconv.Atoi(m[1])
		salt, err1 := base64.StdEncoding.DecodeString(m[2])
		want, err2 := base64.StdEncoding.DecodeString(m[3])
		if err == nil && err1 == nil && err2 == nil && iter > 0 && len(want) == sha512.Size {
			return &mosqV{salt: salt, want: want, iter: iter}, true
		}
		return nil, false
	}
	if m := shaB.FindStringSubmatch(secret); m != nil {
		want, err := base64.StdEncoding.DecodeString(m[1])
		if err == nil && len(want) == sha1.Size {
			return &shaV{want: want}, true
		}
	}
	k := hashes.Identify(secret)
	if k == hashes.Unknown || (k == hashes.DES && !allowDES) {
		return nil, false
	}
	v, err := hashes.NewVerifier(secret)
	if err != nil {
		return nil, false
	}
	return cryptV{v: v, slow: hashes.SlowHash(secret)}, true
}

// isHashLike reports whether secret looks like a hash even though it could
// not be parsed (so it is not reported as a plaintext password).
func isHashLike(secret string) bool {
	return strings.HasPrefix(secret, "$") && strings.Count(secret, "$") >= 3 || strings.HasPrefix(secret, "{SHA}") || strings.HasPrefix(secret, "{SSHA}")
}

type cryptV struct {
	v    hashes.Verifier
	slow bool
}

func (c cryptV) Kind() string          { return string(c.v.Kind()) }
func (c cryptV) Verify(pw string) bool { return c.v.Verify(pw) }
func (c cryptV) Slow() bool            { return c.slow }

// mosqV is mosquitto_passwd's $6$ (SHA-512 of password then salt) or $7$
// (PBKDF2-HMAC-SHA512) hash.
type mosqV struct {
	salt, want []byte
	iter       int
}

func (m *mosqV) Kind() string {
	if m.iter > 0 {
		return "mosquitto-pbkdf2-sha512"
	}
	return "mosquitto-sha512"
}

func (m *mosqV) Slow() bool { return m.iter > 2000 }

func (m *mosqV) Verify(pw string) bool {
	var got []byte
	if m.iter > 0 {
		k, err := pbkdf2.Key(sha512.New, pw, m.salt, m.iter, len(m.want))
		if err != nil {
			return false
		}
		got = k
	} else {
		h := sha512.New()
		h.Write([]byte(pw))
		h.Write(m.salt)
		got = h.Sum(nil)
	}
	return subtle.ConstantTimeCompare(got, m.want) == 1
}

// shaV is htpasswd -s: {SHA} + base64(SHA-1(password)).
type shaV struct{ want []byte }

func (shaV) Kind() string { return "htpasswd-sha1" }
func (shaV) Slow() bool   { return false }
func (s *shaV) Verify(pw string) bool {
	h := sha1.Sum([]byte(pw))
	return subtle.ConstantTimeCompare(h[:], s.want) == 1
}

// digestV is htdigest: MD5(user:realm:password) in hex.
type digestV struct {
	user, realm string
	want        []byte
}

func (digestV) Kind() string { return "htdigest-md5" }
func (digestV) Slow() bool   { return false }
func (d *digestV) Verify(pw string) bool {
	h := md5.Sum([]byte(d.user + ":" + d.realm + ":" + pw))
	return subtle.ConstantTimeCompare(h[:], d.want) == 1
}

// cracker cracks each distinct hash once per run.
type cracker struct {
	list    []string
	slowCap int
	max     int
	tried   int
	start   time.Time
	cache   map[string]crackResult
}

type crackResult struct {
	pw      string
	ok      bool
	skipped bool // over the MaxHashes bound or the run's time budget
	costly  bool // cost parameters too high: not tried
	partial bool // the hash's time budget ran out
}

func (c *cracker) crack(ctx context.Context, key, secret string, v verifier, user string) crackResult {
	if r, ok := c.cache[key]; ok {
		return r
	}
	if c.start.IsZero() {
		c.start = time.Now()
	}
	if m, ok := v.(*mosqV); (ok && m.iter > maxPBKDF2Iter) || hashes.TooCostly(secret) {
		r := crackResult{costly: true}
		c.cache[key] = r
		return r
	}
	if c.tried >= c.max || time.Since(c.start) > runBudget {
		r := crackResult{skipped: true}
		c.cache[key] = r
		return r
	}
	c.tried++
	began := time.Now()
	base := c.list
	if v.Slow() && len(base) > c.slowCap {
		base = base[:c.slowCap]
	}
	var r crackResult
	cands := append(base[:len(base):len(base)], user, user+"123")
	for i, pw := range cands {
		if pw == "" || (i >= len(base) && user == "") {
			continue
		}
		if ctx.Err() != nil || (i > 0 && time.Since(began) > hashBudget) {
			r.partial = true
			break
		}
		if v.Verify(pw) {
			r = crackResult{pw: pw, ok: true}
			break
		}
	}
	c.cache[key] = r
	return r
}
