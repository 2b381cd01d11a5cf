package hashes

import (
	"regexp"
	"strconv"
	"strings"
)

// Cost bounds: a hash whose parameters exceed them could take seconds or
// hours per guess (a hostile shadow file can ask for bcrypt cost 31 or a
// billion sha-crypt rounds), so it is not tried. Variables so that fuzz
// tests can lower them.
var (
	MaxBcryptCost        = 12
	MaxShaRounds  uint64 = 500_000
)

var bcryptCost = regexp.MustCompile(`^\$2[aby]\$([0-9]{2})\$`)

// TooCostly reports whether one guess against hash may be too slow to try.
func TooCostly(hash string) bool {
	if m := bcryptCost.FindStringSubmatch(hash); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n > MaxBcryptCost
	}
	switch Identify(hash) {
	case SHA256Crypt, SHA512Crypt:
		params, _, _ := strings.Cut(hash[3:], "$")
		if v, ok := strings.CutPrefix(params, "rounds="); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			return err != nil || n > MaxShaRounds
		}
	case Yescrypt:
		// only the common cost settings libxcrypt writes by default
		params, _, _ := strings.Cut(hash[3:], "$")
		return params != "j9T" && params != "j8T" && params != "j7T"
	}
	return false
}

// Work estimates the cost of one guess against hash, in units of one
// sha-crypt round (about a microsecond): sha256crypt and sha512crypt cost
// their rounds (5,000 by default), md5crypt its 1,000 rounds, DES about 25,
// bcrypt about 64 units per 2^cost iteration, yescrypt about as much as
// bcrypt cost 10. It lets a caller bound the total cracking work of an
// image whatever mix of hashes it carries.
func Work(hash string) int64 {
	if m := bcryptCost.FindStringSubmatch(hash); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n > 40 {
			n = 40
		}
		return 64 << n
	}
	switch Identify(hash) {
	case SHA256Crypt, SHA512Crypt:
		params, _, _ := strings.Cut(hash[3:], "$")
		if v, ok := strings.CutPrefix(params, "rounds="); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n > 1<<40 {
				return 1 << 40
			}
			// crypt(3) clamps rounds to at least 1,000
			return int64(max(n, 1000))
		}
		return 5000
	case MD5Crypt, APR1:
		return 1000
	case DES:
		return 25
	case Yescrypt:
		return 64 << 10
	case BCrypt:
		return 64 << 10
	}
	return 1
}
