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
