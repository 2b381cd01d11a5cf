package tokens

// MinString is the shortest printable run taken from a binary.
const MinString = 8

// MaxString cuts longer printable runs (and text lines).
const MaxString = 4 << 10

// printable[c] is true for space to '~' and tab.
var printable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return
}()

// Strings calls fn for every run of at least min printable ASCII bytes
// (space to '~', and tab) in b, with its offset. Runs longer than
// MaxString are cut into pieces of MaxString bytes.
func Strings(b []byte, min int, fn func(off int, s []byte)) {
	if min < 1 {
		min = 1
	}
	i := 0
	for i < len(b) {
		for i < len(b) && !printable[b[i]] {
			i++
		}
		start := i
		for i < len(b) && printable[b[i]] && i-start < MaxString {
			i++
		}
		if i-start >= min {
			fn(start, b[start:i])
		}
	}
}

// tokenChar[c]: c may be part of a token.
var tokenChar = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 2
		t[c-'a'+'A'] = 2
	}
	for _, c := range "+/=_.-~" {
		t[c] = 4
	}
	return
}()

// tokenish reports whether s holds a run of at least minRun token
// characters with both a letter and a digit: every credential the rules
// look for does, and most lines and strings do not.
func tokenish(s []byte, minRun int) bool {
	run, kinds := 0, uint8(0)
	for _, c := range s {
		k := tokenChar[c]
		if k == 0 {
			run, kinds = 0, 0
			continue
		}
		run++
		kinds |= k
		if run >= minRun && kinds&3 == 3 {
			return true
		}
	}
	return false
}
