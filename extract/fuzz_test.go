package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// Fuzzing helpers shared by the Fuzz targets of this package.
//
// A target must run thousands of inputs a minute to explore anything, and
// the Go fuzzer minimises every new interesting input by re-running it once
// per byte it tries to remove: a 200 KiB seed and a run that writes files
// to disk stall the fuzzer for its whole minimisation time. So:
//
//   - outputs go to a folder reused by the whole fuzzing process, in memory
//     (/dev/shm) when there is one, and are removed after each input;
//   - the limits are small (fuzzLimits): 1 MiB out per input;
//   - raw seeds are at most a few KiB of the real fixtures;
//   - large images are fuzzed through patches (fuzzInput): an input whose
//     first byte selects a base image is a list of small overwrites of that
//     real image, held in memory, so the input stays tiny while the parser
//     reads a whole, mostly valid image.

// fuzzLimits bound what one fuzz input may write.
var fuzzLimits = Limits{MaxDepth: 4, MaxTotalBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxRatio: 64, MaxFiles: 256}

var (
	fuzzBaseOnce sync.Once
	fuzzBaseDir  string
	fuzzSeq      atomic.Int64
)

// fuzzDir returns a fresh, empty folder for one input, removed when the
// input is done.
func fuzzDir(t *testing.T) string {
	fuzzBaseOnce.Do(func() {
		parent := os.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			parent = "/dev/shm"
		}
		d, err := os.MkdirTemp(parent, "fwaudit-fuzz-")
		if err != nil {
			d, _ = os.MkdirTemp("", "fwaudit-fuzz-")
		}
		fuzzBaseDir = d
	})
	if fuzzBaseDir == "" {
		return t.TempDir()
	}
	d := filepath.Join(fuzzBaseDir, strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(fuzzSeq.Add(1), 10))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestMain removes the fuzzing folder at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	if fuzzBaseDir != "" {
		os.RemoveAll(fuzzBaseDir)
	}
	os.Exit(code)
}

// fuzzFixture reads a fixture of testdata/firmware, or nil.
func fuzzFixture(name string) []byte {
	b, _ := os.ReadFile(filepath.Join("..", "testdata", "firmware", name))
	return b
}

// fuzzRaw makes a raw seed: mode byte 0 then at most n bytes of b.
func fuzzRaw(b []byte, n int) []byte {
	return append([]byte{0}, b[:min(len(b), n)]...)
}

// fuzzPatch makes a patch seed for base k (1-based) writing val at off.
func fuzzPatch(k int, ops ...any) []byte {
	out := []byte{byte(k)}
	for i := 0; i+1 < len(ops); i += 2 {
		off, val := ops[i].(int), ops[i+1].([]byte)
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		out = append(out, byte(len(val)))
		out = append(out, val...)
	}
	return out
}

// fuzzInput turns a fuzz input into the bytes to parse. Its first byte
// selects the mode: 0 (or any value past the bases) means the rest is the
// data itself; k in 1..len(bases) means the rest is a list of overwrites
// of bases[k-1]: a 4-byte big-endian offset (taken modulo the base's
// size), a length byte and that many bytes.
func fuzzInput(data []byte, bases ...[]byte) []byte {
	if len(data) == 0 {
		return nil
	}
	k := int(data[0])
	if k == 0 || k > len(bases) || len(bases[k-1]) == 0 {
		return data[1:]
	}
	base := bases[k-1]
	out := bytes.Clone(base)
	p := data[1:]
	for len(p) >= 5 {
		off := int(binary.BigEndian.Uint32(p) % uint32(len(out)))
		n := int(p[4])
		p = p[5:]
		n = min(n, len(p))
		copy(out[off:], p[:n])
		p = p[n:]
	}
	return out
}

// fuzzArch unpacks data as f with the fuzz limits, checking what every
// parser must guarantee: a consumed length and bound inside the data, the
// limits kept, and nothing written outside the output folder.
func fuzzArch(t *testing.T, f Format, data []byte) {
	if !f.Identify(readHeader(bytes.NewReader(data), 0, int64(len(data)), HeaderSize)) {
		return
	}
	base := fuzzDir(t)
	dir := filepath.Join(base, "a", "out")
	w, err := NewWriter(dir, fuzzLimits, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n, _ := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w)
	if n < 0 || n > int64(len(data)) {
		t.Fatalf("consumed %d of %d", n, len(data))
	}
	if b, _ := f.Bound(bytes.NewReader(data), int64(len(data))); b > int64(len(data)) {
		t.Fatalf("bound %d of %d", b, len(data))
	}
	if w.Written() > fuzzLimits.MaxTotalBytes {
		t.Fatalf("wrote %d", w.Written())
	}
	archOnlyUnder(t, base, dir)
}

// fuzzCtr unpacks data as the named format into a fuzz folder and returns
// the writer and the consumed length.
func fuzzCtr(t *testing.T, format string, data []byte) (*Writer, int64, error) {
	f, ok := Lookup(format)
	if !ok {
		t.Fatalf("format %s not registered", format)
	}
	w, err := NewWriter(filepath.Join(fuzzDir(t), "out"), fuzzLimits, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	n, err := f.Unpack(context.Background(), bytes.NewReader(data), int64(len(data)), w)
	if n < 0 || n > int64(len(data)) {
		t.Fatalf("%s: consumed %d of %d", format, n, len(data))
	}
	if w.Written() > fuzzLimits.MaxTotalBytes {
		t.Fatalf("%s: wrote %d", format, w.Written())
	}
	return w, n, err
}

func TestFuzzInput(t *testing.T) {
	base := []byte("0123456789")
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{append([]byte{0}, "raw"...), "raw"},
		{append([]byte{9}, "raw"...), "raw"},
		{fuzzPatch(1), "0123456789"},
		{fuzzPatch(1, 2, []byte("ab"), 12, []byte("Z")), "01ab456789"[:2] + "Zb456789"},
		{fuzzPatch(1, 9, []byte("xyz")), "012345678x"},
		{append(fuzzPatch(1), 0, 0, 0, 1, 200, 'q'), "0q23456789"},
	} {
		if got := string(fuzzInput(tc.in, base)); got != tc.want {
			t.Errorf("fuzzInput(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if string(base) != "0123456789" {
		t.Fatal("base modified")
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
