package lzma

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode decodes arbitrary .lzma input with DecodeAlone, the streaming
// Reader and ulikunitz/xz (with a small output limit). It checks that
// nothing panics, that all decoders that succeed agree on the output, that
// Decode and Reader agree on the consumed length, and that we do not reject
// a stream the reference decoder accepts.
//
//	go test -run=^$ -fuzz=FuzzDecode -fuzztime=120s ./extract/compress/lzma/
func FuzzDecode(f *testing.F) {
	seeds := []wcfg{
		{props: Props{LC: 3, PB: 2}, eos: true},
		{props: Props{LC: 3, PB: 2}, sized: true},
		{props: Props{LC: 0, LP: 2}, sized: true, eos: true},
		{props: Props{LC: 8, LP: 0, PB: 0}, eos: true, dict: 4096},
	}
	for i, c := range seeds {
		f.Add(compress(f, genMixed(3000+i*500, uint64(i)), c))
		f.Add(compress(f, genRepetitive(800, uint64(i)), c))
		f.Add(compress(f, genText(200, uint64(i)), c))
	}
	files, _ := filepath.Glob("testdata/*.lzma")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 0 && b[0] <= 224 && b[0]%9+b[0]/9%5 > 8 {
			// lc+lp > 8 means up to 6 MiB of literal probabilities
			// to initialise per run, which only slows the fuzzer
			// down; such inputs are covered by the unit tests.
			return
		}
		compareDecoders(t, "fuzz", b, 1<<16)
	})
}
