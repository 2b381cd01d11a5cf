package tokens

import (
	"bytes"
	"context"
	"testing"
)

// FuzzStrings checks the printable-strings extraction: every run is
// printable, at least MinString and at most MaxString long, lies inside
// the input at its offset, runs do not overlap and come in order, and a
// printable run is never missed; scan must not panic on any input.
func FuzzStrings(f *testing.F) {
	f.Add([]byte("\x00\x01hello world\x00api_key=AKIAQ3EGTZ7KPLM2WN4X\x00"))
	f.Add(bytes.Repeat([]byte("A"), MaxString+5))
	f.Add([]byte("short\x00\x7fELF\ttabbed string here\n"))
	e, err := loadEngine()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		last := 0
		covered := 0
		Strings(b, MinString, func(off int, s []byte) {
			if off < last || off+len(s) > len(b) || !bytes.Equal(b[off:off+len(s)], s) {
				t.Fatalf("run at %d (len %d) out of order or not in input", off, len(s))
			}
			if len(s) < MinString && len(s) != MaxString || len(s) > MaxString {
				t.Fatalf("run length %d", len(s))
			}
			for _, c := range s {
				if !printable[c] {
					t.Fatalf("non-printable %#x in run", c)
				}
			}
			last = off + len(s)
			covered += len(s)
		})
		// count bytes in printable runs of at least MinString
		want, run := 0, 0
		for i := 0; i <= len(b); i++ {
			if i < len(b) && printable[b[i]] {
				run++
				continue
			}
			if run >= MinString {
				want += run
			}
			run = 0
		}
		if covered > want {
			t.Fatalf("covered %d bytes, only %d printable in long runs", covered, want)
		}
		if covered < want-MinString*(want/MaxString+1) {
			t.Fatalf("covered %d bytes, want about %d", covered, want)
		}
		var scratch []byte
		e.scan(context.Background(), b, &scratch, false)
		e.scan(context.Background(), b, &scratch, true)
	})
}
