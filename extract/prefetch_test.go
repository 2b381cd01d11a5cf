package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/fwaudit/fwaudit/internal/hostile"
)

// xzBytes is p compressed by ulikunitz/xz with cfg.
func xzBytes(tb testing.TB, p []byte, cfg xz.WriterConfig) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, err := cfg.NewWriter(&b)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(p)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// gzBytes is one gzip member per part, back to back.
func gzBytes(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&b)
		w.Write(p)
		w.Close()
	}
	return b.Bytes()
}

// prefetchImage builds a tar file system whose members exercise every
// path of the prefetching: small gzipped text identified at offset 0,
// package-like blobs carved for the xz streams inside them (whose tars
// hold gzipped files again), a gzip of many members, a truncated gzip, a
// corrupt xz, and a gzip that expands far (for byte bounds).
func prefetchImage(t *testing.T) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 12))
	gz := gzBytes
	xzWith := func(p []byte, cfg xz.WriterConfig) []byte { return xzBytes(t, p, cfg) }
	xzOf := func(p []byte) []byte { return xzBytes(t, p, xz.WriterConfig{}) }
	text := func(n int) []byte {
		words := []string{"password", "the", "daemon", "listens", "on", "port", "8080", "admin", "root", "\n"}
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		return []byte(b.String())
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	tarOf := hostile.Tar
	members := map[string][]byte{}
	for i := range 40 {
		members[fmt.Sprintf("usr/share/man/man1/tool%02d.1.gz", i)] = gz(text(2000 + 300*i))
	}
	for i := range 5 {
		inner := tarOf(map[string][]byte{
			fmt.Sprintf("usr/share/doc/pkg%d/changelog.gz", i): gz(text(5000)),
			fmt.Sprintf("usr/bin/prog%d", i):                   append([]byte("\x7fELF"), random(30000)...),
			fmt.Sprintf("etc/pkg%d.conf", i):                   text(3000),
		})
		// a package: a header, an xz stream (control), another (data), a
		// trailer; big enough to be carved
		blob := append([]byte("!<arch>\ndebian-binary   1234        0     0     100644  4         `\n2.0\n"), xzOf(text(4000))...)
		blob = append(blob, xzOf(inner)...)
		blob = append(blob, random(20000)...)
		members[fmt.Sprintf("var/cache/apt/archives/pkg%d.deb", i)] = blob
	}
	members["usr/share/doc/multi.gz"] = gz(text(3000), text(4000), text(100))
	trunc := gz(text(50000))
	members["usr/share/doc/truncated.gz"] = trunc[:len(trunc)/2]
	bad := xzOf(text(60000))
	for i := len(bad) / 3; i < len(bad)/3+64; i++ {
		bad[i] ^= 0x5a
	}
	members["usr/share/doc/corrupt.xz"] = bad
	members["var/lib/zeros.gz"] = gz(make([]byte, 8<<20))
	// xz streams of every kind the one-pass path takes or leaves to the
	// streaming decoder: several blocks, a SHA-256 check, stream padding
	// and trailing bytes, truncated, a dictionary beyond DictLimit
	members["usr/share/doc/blocks.tar.xz"] = xzWith(tarOf(map[string][]byte{"a.gz": gz(text(9000)), "b.txt": text(70000)}),
		xz.WriterConfig{CheckSum: xz.CRC64, BlockSize: 16 << 10})
	members["usr/share/doc/sha256.xz"] = xzWith(text(20000), xz.WriterConfig{CheckSum: xz.SHA256})
	members["usr/share/doc/padded.xz"] = append(xzOf(text(7000)), append(make([]byte, 8), random(5000)...)...)
	members["usr/share/doc/notfour.xz"] = append(xzOf(text(7000)), 0, 0)
	short := xzOf(text(40000))
	members["usr/share/doc/short.xz"] = short[:len(short)*2/3]
	bigDict := xzWith(text(30000), xz.WriterConfig{CheckSum: xz.CRC32})
	if h := bigDict[12:]; h[1] == 0 && h[2] == 0x21 && h[3] == 1 {
		hs := (int(h[0]) + 1) * 4
		h[4] = 40 // 4 GiB
		binary.LittleEndian.PutUint32(h[hs-4:], crc32.ChecksumIEEE(h[:hs-4]))
	} else {
		t.Fatalf("unexpected block header % x", h[:8])
	}
	members["usr/share/doc/bigdict.xz"] = bigDict
	return tarOf(members)
}

// treeDigest describes every entry of dir: path, kind, and content hash or
// link target.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			lines = append(lines, rel+" -> "+target)
		case d.IsDir():
			lines = append(lines, rel+"/")
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			lines = append(lines, rel+" "+hex.EncodeToString(sum[:]))
		}
		return nil
	})
	return strings.Join(lines, "\n")
}

func layersJSON(r *Result) string {
	var ls []Layer
	for _, l := range r.Layers {
		c := *l
		c.Root = ""
		ls = append(ls, c)
	}
	j, _ := json.MarshalIndent(ls, "", " ")
	return string(j)
}

// TestPrefetchChangesNothing extracts the same image with and without
// prefetching, with the default bounds and with bounds that are hit, and
// wants the very same layers (IDs, paths, anomalies, sizes) and the very
// same files, and wants the prefetched streams to have been used.
func TestPrefetchChangesNothing(t *testing.T) {
	img := filepath.Join(t.TempDir(), "fs.tar")
	if err := os.WriteFile(img, prefetchImage(t), 0o644); err != nil {
		t.Fatal(err)
	}
	tight := DefaultLimits()
	// the 8 MiB of zeros.gz (decoded ahead) reach the image's total
	tight.MaxTotalBytes = 6 << 20
	tight.MaxFileBytes = 32 << 20
	for _, c := range []struct {
		name string
		lim  Limits
	}{{"default bounds", DefaultLimits()}, {"bounds hit", tight}} {
		t.Run(c.name, func(t *testing.T) {
			run := func(noPrefetch, onePass, wholeScan bool) (*Result, string) {
				xzOnePass, scanWhole = onePass, wholeScan
				defer func() { xzOnePass, scanWhole = true, false }()
				work := filepath.Join(t.TempDir(), "work")
				res, err := Extract(context.Background(), img, work, Options{Limits: c.lim, NoPrefetch: noPrefetch})
				if err != nil {
					t.Fatal(err)
				}
				return res, treeDigest(t, work)
			}
			// the reference: in order, every xz stream by the streaming
			// decoder, every blob scanned whole before carving
			before, wholeBefore := prefetchReplays.Load(), xzWholeDecoded.Load()
			seq, seqTree := run(true, false, true)
			if n := prefetchReplays.Load() - before; n != 0 {
				t.Fatalf("NoPrefetch used %d prefetched streams", n)
			}
			if n := xzWholeDecoded.Load() - wholeBefore; n != 0 {
				t.Fatalf("the one-pass path was off, yet decoded %d xz streams", n)
			}
			for _, v := range []struct {
				name                         string
				noPrefetch, whole, wholeScan bool
			}{
				{"scanning as needed", true, false, false},
				{"one-pass xz", true, true, false},
				{"prefetching", false, false, false},
				{"prefetching and one-pass xz", false, true, false},
				{"prefetching and one-pass xz, whole scans", false, true, true},
			} {
				before, wholeBefore := prefetchReplays.Load(), xzWholeDecoded.Load()
				par, parTree := run(v.noPrefetch, v.whole, v.wholeScan)
				used, whole := prefetchReplays.Load()-before, xzWholeDecoded.Load()-wholeBefore
				if a, b := layersJSON(seq), layersJSON(par); a != b {
					t.Errorf("layers differ with %s:\n--- without\n%s\n--- with\n%s", v.name, a, b)
				}
				if seqTree != parTree {
					t.Errorf("files differ with %s:\n--- without\n%s\n--- with\n%s", v.name, seqTree, parTree)
				}
				if !v.noPrefetch && used < 40 {
					t.Errorf("%s: only %d streams came from the prefetcher; the test does not test it", v.name, used)
				}
				if v.whole && whole < 12 {
					t.Errorf("%s: only %d xz streams decoded in one pass; the test does not test it", v.name, whole)
				}
			}
			// the image really has what the test is about
			formats := map[string]int{}
			for _, l := range seq.Layers {
				formats[l.Format]++
			}
			if formats["gzip"] < 40 || formats["xz"] < 15 || formats["tar"] < 7 {
				t.Fatalf("the image did not unpack as built: %v", formats)
			}
			if c.lim.MaxTotalBytes != DefaultLimits().MaxTotalBytes && !strings.Contains(layersJSON(seq), "limit") {
				t.Errorf("the tight bounds were never hit:\n%s", layersJSON(seq))
			}
		})
	}
}

// TestPrefetchBoundedStreams: a file of thousands of tiny gzip and xz
// streams in turn (neither swallows the other) is decoded ahead no further
// than the engine unpacks chunks of one blob.
func TestPrefetchBoundedStreams(t *testing.T) {
	gz, x := gzBytes([]byte("tiny\n")), xzBytes(t, []byte("tiny\n"), xz.WriterConfig{})
	var blob []byte
	for range 2 * maxBlobChunks {
		blob = append(blob, gz...)
		blob = append(blob, x...)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "streams.bin")
	if err := os.WriteFile(path, blob, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &engine{formats: Formats(), opt: Options{Limits: DefaultLimits()}}
	p := &prefetcher{e: e, decode: true, minSz: DefaultCarveMinSize, fileSz: DefaultCarveFileBytes}
	w := &memberWork{done: make(chan struct{})}
	p.member(context.Background(), path, w)
	if len(w.streams) != maxBlobChunks {
		t.Fatalf("%d streams decoded ahead, want the bound %d", len(w.streams), maxBlobChunks)
	}
	p.release(w)
	if n := e.preBytes.Load(); n != 0 {
		t.Errorf("%d decoded bytes still counted after release", n)
	}
}

// The one-pass xz path charges what it holds to the prefetcher's budget
// before it allocates: nothing is decoded when the compressed bytes and
// the decoded size (from the index of a stream ending its blob, else a
// bound) would not fit, and after a decode only the output stays charged.
func TestXZWholeBudget(t *testing.T) {
	data := bytes.Repeat([]byte("a line of a Debian changelog, compressed by xz\n"), 20000)
	src := xzBytes(t, data, xz.WriterConfig{})
	n := int64(len(src))
	if got := xzEndTotal(bytes.NewReader(src), 0, n); got != int64(len(data)) {
		t.Fatalf("xzEndTotal = %d, want %d", got, len(data))
	}
	padded := append(bytes.Clone(src), 0, 0, 0, 0, 0, 0, 0, 0)
	if got := xzEndTotal(bytes.NewReader(padded), 0, int64(len(padded))); got != int64(len(data)) {
		t.Errorf("xzEndTotal with stream padding = %d, want %d", got, len(data))
	}
	inside := append(bytes.Clone(src), "not a footer"...)
	if got := xzEndTotal(bytes.NewReader(inside), 0, int64(len(inside))); got != -1 {
		t.Errorf("xzEndTotal of a stream followed by other bytes = %d, want -1", got)
	}
	// the index tells whether the stream ending the blob starts at off
	two := append(bytes.Clone(src), src...)
	if _, here := xzEndStream(bytes.NewReader(two), 0, int64(len(two))); here {
		t.Error("the first of two streams taken for the one ending the blob")
	}
	if total, here := xzEndStream(bytes.NewReader(two), n, int64(len(two))); !here || total != int64(len(data)) {
		t.Errorf("the second of two streams: here=%v total=%d", here, total)
	}
	var held atomic.Int64
	held.Store(1000)
	need := n + int64(len(data))
	if d := decodeXZWhole(bytes.NewReader(src), 0, n, 32<<20, &held, 1000+need-1); d != nil || held.Load() != 1000 {
		t.Fatalf("decoded past the budget (held %d)", held.Load())
	}
	d := decodeXZWhole(bytes.NewReader(src), 0, n, 32<<20, &held, 1000+need)
	if d == nil || !bytes.Equal(d.data, data) || d.consumed != n {
		t.Fatalf("within the budget: %v", d)
	}
	if held.Load() != 1000+int64(len(data)) {
		t.Errorf("held %d after the decode, want the output charged: %d", held.Load(), 1000+len(data))
	}
	// the output bound: a stream decoding to more is left to the streaming decoder
	if d := decodeXZWhole(bytes.NewReader(src), 0, n, int64(len(data))-1, nil, 0); d != nil {
		t.Error("decoded beyond maxOut")
	}
	// inside a blob, the decode is bounded by a guess and checked in full
	held.Store(0)
	d = decodeXZWhole(bytes.NewReader(inside), 0, int64(len(inside)), 32<<20, &held, 64<<20)
	if d == nil || !bytes.Equal(d.data, data) || d.consumed != n || held.Load() != int64(len(data)) {
		t.Fatalf("stream inside a blob: %v, held %d", d != nil, held.Load())
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// A blob of many small xz streams followed by megabytes of other data is
// not read to its end once per stream: the one-pass path reads a stream
// in growing windows, so each small stream costs one 64 KiB read.
func TestXZWholeReadsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	var blob []byte
	var offs []int64
	var want [][]byte
	for i := range 200 {
		data := fmt.Appendf(nil, "stream %d: %s\n", i, strings.Repeat("firmware ", 100+i))
		offs = append(offs, int64(len(blob)))
		want = append(want, data)
		blob = append(blob, xzBytes(t, data, xz.WriterConfig{})...)
	}
	tail := make([]byte, 4<<20)
	for i := range tail {
		tail[i] = byte(rng.Uint32())
	}
	blob = append(blob, tail...)
	cr := &countingReaderAt{r: bytes.NewReader(blob)}
	for i, off := range offs {
		d := decodeXZWhole(cr, off, int64(len(blob)), 32<<20, nil, 0)
		if d == nil || !bytes.Equal(d.data, want[i]) {
			t.Fatalf("stream %d not decoded", i)
		}
	}
	if got, limit := cr.n.Load(), int64(len(offs))*(xzWholeWindows[0]+64<<10); got > limit {
		t.Errorf("read %d MB for %d small streams; want at most %d MB", got>>20, len(offs), limit>>20)
	}
}
