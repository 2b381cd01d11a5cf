// Package descrypt implements the traditional Unix DES-based crypt(3)
// password hash, as still found in /etc/passwd and /etc/shadow files of
// BusyBox-based IoT firmware.
//
// A traditional hash is 13 characters long: a 2-character salt followed by 11
// characters encoding the 64-bit result, all drawn from the alphabet
// "./0-9A-Za-z". The password is truncated to 8 characters and only the low 7
// bits of every character are used (each becomes one byte of the 56-bit DES
// key). A block of zeros is encrypted 25 times with DES, where the 12-bit
// salt swaps pairs of bits of the E expansion in every round.
//
// This scheme is hopelessly weak (56-bit effective key space, at most 8
// characters, fast); the package exists so that an auditor can recognise
// known default passwords behind such hashes, not to create new ones.
//
// The implementation is pure Go (no cgo) and agrees with glibc/libxcrypt's
// crypt(3) for all valid salts.
package descrypt

import (
	"crypto/subtle"
	"errors"
)

// itoa64 is the crypt(3) base-64 alphabet "./0-9A-Za-z".
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	// HashLen is the length of a traditional DES crypt hash.
	HashLen = 13
	// SaltLen is the length of its salt.
	SaltLen = 2
	// MaxPasswordLen is the number of password characters that are used.
	MaxPasswordLen = 8
	// iterations is the number of chained DES encryptions.
	iterations = 25
)

var (
	// ErrSalt is returned for a salt that is shorter than two characters or
	// uses characters outside "./0-9A-Za-z".
	ErrSalt = errors.New("descrypt: salt must be two characters from [./0-9A-Za-z]")
	// ErrHash is returned by Parse for a string that is not a traditional
	// DES crypt hash.
	ErrHash = errors.New("descrypt: not a 13-character traditional DES crypt hash")
)

// atoi64 maps a crypt(3) base-64 character to its value, or -1.
var atoi64 [256]int8

// Precomputed tables (built once in init):
//   - spBox merges each S-box with the P permutation;
//   - pc1Tab, pc2Tab and fpTab apply the bit permutations a byte at a time.
var (
	spBox  [8][64]uint32
	pc1Tab [8][256]uint64
	pc2Tab [7][256]uint64
	fpTab  [8][256]uint64
)

func init() {
	for i := range atoi64 {
		atoi64[i] = -1
	}
	for i := 0; i < len(itoa64); i++ {
		atoi64[itoa64[i]] = int8(i)
	}

	for box := 0; box < 8; box++ {
		for b := 0; b < 64; b++ {
			row := (b>>4)&2 | b&1
			col := (b >> 1) & 15
			// The four output bits of S-box "box" are bits 4*box+1 .. 4*box+4
			// (1-based, MSB first) of the 32-bit value fed to P.
			pre := uint64(sBoxes[box][row][col]) << (28 - 4*box)
			spBox[box][b] = uint32(permute(pre, 32, pBox[:]))
		}
	}
	buildTable(pc1Tab[:], 64, pc1[:])
	buildTable(pc2Tab[:], 56, pc2[:])
	buildTable(fpTab[:], 64, fp[:])
}

// permute applies a DES-style permutation table to the inBits-bit value in,
// bit-by-bit. Output bit j (MSB first) is input bit table[j] (1-based, MSB
// first). Used only to build the lookup tables.
func permute(in uint64, inBits int, table []uint8) uint64 {
	var out uint64
	n := len(table)
	for j, src := range table {
		bit := (in >> (inBits - int(src))) & 1
		out |= bit << (n - 1 - j)
	}
	return out
}

// buildTable builds per-input-byte lookup tables for a permutation whose input
// is inBits (a multiple of 8) wide.
func buildTable(tab [][256]uint64, inBits int, table []uint8) {
	for k := range tab {
		shift := inBits - 8*(k+1)
		for v := 0; v < 256; v++ {
			tab[k][v] = permute(uint64(v)<<shift, inBits, table)
		}
	}
}

// salt holds the decoded salt: the two characters and the E-box swap mask.
type salt struct {
	chars [2]byte
	// mask has bit 23-k set when E-box output bits k and k+24 (0-based, MSB
	// first) are to be swapped, for k in 0..11.
	mask uint64
}

func parseSalt(s string) (salt, error) {
	if len(s) < SaltLen {
		return salt{}, ErrSalt
	}
	var st salt
	for i := 0; i < SaltLen; i++ {
		v := atoi64[s[i]]
		if v < 0 {
			return salt{}, ErrSalt
		}
		st.chars[i] = s[i]
		// Bit j (LSB first) of salt character i swaps E entries 6i+j and
		// 6i+j+24, exactly as in Version 7 Unix crypt.c.
		for j := 0; j < 6; j++ {
			if v>>j&1 != 0 {
				st.mask |= 1 << (23 - (6*i + j))
			}
		}
	}
	return st, nil
}

// keySchedule derives the 16 48-bit round keys from the password.
func keySchedule(password string, ks *[16]uint64) {
	// Each of the first 8 characters (stopping at NUL, like C) contributes its
	// low 7 bits, shifted left by one: the DES parity bits are ignored.
	var cd uint64
	for i := 0; i < MaxPasswordLen && i < len(password); i++ {
		c := password[i]
		if c == 0 {
			break
		}
		cd |= pc1Tab[i][byte(c<<1)]
	}
	const mask28 = 1<<28 - 1
	c, d := cd>>28, cd&mask28
	for r := 0; r < 16; r++ {
		s := keyShifts[r]
		c = (c<<s | c>>(28-s)) & mask28
		d = (d<<s | d>>(28-s)) & mask28
		v := c<<28 | d
		ks[r] = pc2Tab[0][v>>48&0xff] ^ pc2Tab[1][v>>40&0xff] ^
			pc2Tab[2][v>>32&0xff] ^ pc2Tab[3][v>>24&0xff] ^
			pc2Tab[4][v>>16&0xff] ^ pc2Tab[5][v>>8&0xff] ^
			pc2Tab[6][v&0xff]
	}
}

// feistel is the DES round function f(R, K) with the salt perturbation.
func feistel(r uint32, k, mask uint64) uint32 {
	// 34-bit value: bit 32 of R, R, bit 1 of R. Chunk i of the E expansion
	// is then 6 consecutive bits of x.
	x := uint64(r)<<1 | uint64(r>>31) | uint64(r&1)<<33
	e := (x>>28&63)<<42 | (x>>24&63)<<36 | (x>>20&63)<<30 | (x>>16&63)<<24 |
		(x>>12&63)<<18 | (x>>8&63)<<12 | (x>>4&63)<<6 | x&63
	t := (e ^ e>>24) & mask
	e ^= t | t<<24
	e ^= k
	return spBox[0][e>>42&63] ^ spBox[1][e>>36&63] ^ spBox[2][e>>30&63] ^
		spBox[3][e>>24&63] ^ spBox[4][e>>18&63] ^ spBox[5][e>>12&63] ^
		spBox[6][e>>6&63] ^ spBox[7][e&63]
}

// encrypt returns the 64-bit crypt(3) result: a zero block encrypted n times.
// Since IP(0) = 0 and IP(FP(x)) = x, the chained encryptions need neither the
// initial permutation nor the intermediate final permutations.
func encrypt(ks *[16]uint64, mask uint64, n int) uint64 {
	var l, r uint32
	for ; n > 0; n-- {
		for i := 0; i < 16; i++ {
			l, r = r, l^feistel(r, ks[i], mask)
		}
		l, r = r, l
	}
	v := uint64(l)<<32 | uint64(r)
	var out uint64
	for i := 0; i < 8; i++ {
		out |= fpTab[i][v>>(56-8*i)&0xff]
	}
	return out
}

func sum(password string, st salt) uint64 {
	var ks [16]uint64
	keySchedule(password, &ks)
	return encrypt(&ks, st.mask, iterations)
}

func encode(st salt, v uint64) string {
	var b [HashLen]byte
	b[0], b[1] = st.chars[0], st.chars[1]
	for i := 0; i < 10; i++ {
		b[2+i] = itoa64[v>>(58-6*i)&63]
	}
	b[12] = itoa64[v<<2&63]
	return string(b[:])
}

// Crypt computes the traditional DES crypt(3) hash of password with the given
// salt. Like crypt(3), only the first two characters of salt are used, so a
// complete hash may be passed as the salt. The password is truncated at 8
// characters (or at a NUL byte, as a C string would be) and the high bit of
// each character is ignored.
func Crypt(password, salt string) (string, error) {
	st, err := parseSalt(salt)
	if err != nil {
		return "", err
	}
	return encode(st, sum(password, st)), nil
}

// Hash is a parsed traditional DES crypt hash, ready to check many candidate
// passwords without re-parsing.
type Hash struct {
	salt salt
	sum  uint64
}

// Parse parses a 13-character traditional DES crypt hash. It rejects hashes
// whose last character carries non-zero padding bits, since crypt(3) never
// produces them and no password can match them.
func Parse(hash string) (*Hash, error) {
	if len(hash) != HashLen {
		return nil, ErrHash
	}
	st, err := parseSalt(hash)
	if err != nil {
		return nil, ErrHash
	}
	// Characters 2..12 encode 66 bits: the 64-bit result followed by two
	// zero bits.
	var v uint64
	for i := 2; i < HashLen; i++ {
		d := atoi64[hash[i]]
		if d < 0 {
			return nil, ErrHash
		}
		if i == HashLen-1 {
			if d&3 != 0 {
				return nil, ErrHash
			}
			v = v<<4 | uint64(d>>2)
		} else {
			v = v<<6 | uint64(d)
		}
	}
	return &Hash{salt: st, sum: v}, nil
}

// Salt returns the hash's two salt characters.
func (h *Hash) Salt() string { return string(h.salt.chars[:]) }

// String returns the hash in its 13-character form.
func (h *Hash) String() string { return encode(h.salt, h.sum) }

// Verify reports whether password hashes to h.
func (h *Hash) Verify(password string) bool {
	x := sum(password, h.salt) ^ h.sum
	return subtle.ConstantTimeEq(int32(uint32(x>>32|x)), 0) == 1
}

// Verify reports whether password matches the traditional DES crypt hash.
// It returns false for anything that is not a well-formed 13-character hash.
func Verify(hash, password string) bool {
	h, err := Parse(hash)
	if err != nil {
		return false
	}
	return h.Verify(password)
}
