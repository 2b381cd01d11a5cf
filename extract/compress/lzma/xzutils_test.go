package lzma

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// sampleInput is the deterministic input of the testdata/*.lzma files made
// with xz-utils (see testdata/README.md). It deliberately avoids math/rand so
// that it can never change.
func sampleInput() []byte {
	x := uint32(2463534242)
	next := func() uint32 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return x
	}
	var b bytes.Buffer
	for i := 0; b.Len() < 48000; i++ {
		switch next() % 4 {
		case 0:
			fmt.Fprintf(&b, "line %d: %s %s\n", i, words[next()%uint32(len(words))], words[next()%uint32(len(words))])
		case 1:
			for k := next() % 64; k > 0; k-- {
				b.WriteByte(byte(next()))
			}
		case 2:
			for k := next() % 200; k > 0; k-- {
				b.WriteByte(0xFF)
			}
		default:
			for k := next() % 16; k > 0; k-- {
				v := next() % 1024
				b.Write([]byte{byte(v), byte(v >> 8), 0, 0})
			}
		}
	}
	return b.Bytes()
}

// TestWriteSample writes the sample input for regenerating the testdata
// files: LZMA_WRITE_SAMPLE=/tmp/sample.bin go test -run TestWriteSample
func TestWriteSample(t *testing.T) {
	path := os.Getenv("LZMA_WRITE_SAMPLE")
	if path == "" {
		t.Skip("LZMA_WRITE_SAMPLE not set")
	}
	if err := os.WriteFile(path, sampleInput(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestXZUtilsFiles(t *testing.T) {
	want := sampleInput()
	files, _ := filepath.Glob("testdata/*.lzma")
	if len(files) < 3 {
		t.Fatalf("expected testdata/*.lzma files, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			comp, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ref, refN, err := refDecode(comp, 1<<30)
			if err != nil || !bytes.Equal(ref, want) || refN != len(comp) {
				t.Fatalf("reference decoder: err=%v equal=%v consumed=%d/%d", err, bytes.Equal(ref, want), refN, len(comp))
			}
			got, n, err := DecodeAlone(nil, comp, 0)
			if err != nil || !bytes.Equal(got, want) || n != len(comp) {
				t.Fatalf("DecodeAlone: err=%v equal=%v consumed=%d/%d", err, bytes.Equal(got, want), n, len(comp))
			}
			got, zn, err := readerDecode(comp, true, 0)
			if err != nil || !bytes.Equal(got, want) || zn != int64(len(comp)) {
				t.Fatalf("Reader: err=%v equal=%v consumed=%d/%d", err, bytes.Equal(got, want), zn, len(comp))
			}
		})
	}
}
