package squashfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// memSink records an extraction in memory.
type memSink struct {
	mu        sync.Mutex
	dirs      map[string]fs.FileMode
	files     map[string]*bytes.Buffer
	modes     map[string]fs.FileMode
	symlinks  map[string]string
	links     map[string]string
	specials  map[string]string
	anomalies []string
	maxFiles  int // Create fails with errLimit past this many files
	maxBytes  int // writes fail with errLimit past this many bytes
	written   int
}

var errLimit = errors.New("test limit")

func newMemSink() *memSink {
	return &memSink{dirs: map[string]fs.FileMode{}, files: map[string]*bytes.Buffer{}, modes: map[string]fs.FileMode{},
		symlinks: map[string]string{}, links: map[string]string{}, specials: map[string]string{}}
}

type memFile struct {
	*bytes.Buffer
	s *memSink
}

func (memFile) Close() error { return nil }

// Write fails with errLimit past the sink's byte budget, if any.
func (f memFile) Write(p []byte) (int, error) {
	f.s.mu.Lock()
	f.s.written += len(p)
	over := f.s.maxBytes > 0 && f.s.written > f.s.maxBytes
	f.s.mu.Unlock()
	if over {
		return 0, errLimit
	}
	return f.Buffer.Write(p)
}

func (s *memSink) Mkdir(name string, mode fs.FileMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[name] = mode
	return nil
}

func (s *memSink) Create(name string, mode fs.FileMode) (io.WriteCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxFiles > 0 && len(s.files) >= s.maxFiles {
		return nil, errLimit
	}
	b := &bytes.Buffer{}
	s.files[name] = b
	s.modes[name] = mode
	return memFile{b, s}, nil
}

func (s *memSink) Symlink(name, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.symlinks[name] = target
	return nil
}

func (s *memSink) Link(name, target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[target]; !ok {
		return fmt.Errorf("hard link %s to %s, which was not written before", name, target)
	}
	s.links[name] = target
	return nil
}

func (s *memSink) Special(name, kind string, mode uint32, major, minor uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.specials[name] = fmt.Sprintf("%s %04o %d,%d", kind, mode, major, minor)
	return nil
}

func (s *memSink) Anomaly(kind, name, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.anomalies = append(s.anomalies, kind+" "+name+": "+detail)
}

func extractBytes(t testing.TB, b []byte, sink *memSink) error {
	t.Helper()
	img, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	return img.Extract(context.Background(), sink, Options{Fatal: func(err error) bool { return errors.Is(err, errLimit) }})
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// features.img was made with mksquashfs 4.5.1 (gzip, -xattrs) from a tree
// with a sparse file, a file of exactly one block, a hard link, a symlink,
// a 400-entry directory (extended, indexed), a 255-byte name, xattrs on a
// file and a directory, and pseudo char/block devices, a fifo and a socket.
func TestFeatures(t *testing.T) {
	b := readFixture(t, "testdata/features.img")
	s := newMemSink()
	if err := extractBytes(t, b, s); err != nil {
		t.Fatal(err)
	}
	if len(s.anomalies) != 0 {
		t.Errorf("anomalies: %v", s.anomalies)
	}
	sparse := append(bytes.Repeat([]byte("head"), 1000), make([]byte, 3*131072)...)
	sparse = append(sparse, bytes.Repeat([]byte("tail"), 5000)...)
	if got := s.files["sparse.bin"]; got == nil || !bytes.Equal(got.Bytes(), sparse) {
		t.Errorf("sparse.bin differs")
	}
	exact := make([]byte, 131072)
	for i := range exact {
		exact[i] = byte(i * 7 % 251)
	}
	if got := s.files["exact.bin"]; got == nil || !bytes.Equal(got.Bytes(), exact) {
		t.Errorf("exact.bin differs")
	}
	if s.links["x/exact-link"] != "exact.bin" {
		t.Errorf("hard links: %v", s.links)
	}
	if s.symlinks["x/sl"] != "../sparse.bin" {
		t.Errorf("symlinks: %v", s.symlinks)
	}
	wantSpecial := map[string]string{
		"dev-b": "block 0660 259,70000", "dev-c": "char 0600 4,64", "fifo": "fifo 0600 0,0", "sock": "socket 0644 0,0",
	}
	if fmt.Sprint(s.specials) != fmt.Sprint(wantSpecial) {
		t.Errorf("specials %v, want %v", s.specials, wantSpecial)
	}
	for i := 0; i < 400; i++ {
		name := fmt.Sprintf("big/entry-%04d-%s", i, strings.Repeat("x", 40))
		if got := s.files[name]; got == nil || got.String() != fmt.Sprint(i) {
			t.Fatalf("%s: %v", name, got)
		}
	}
	if got := s.files["x/"+strings.Repeat("n", 255)]; got == nil || got.String() != "long name\n" {
		t.Errorf("255-byte name: %v", got)
	}
	if len(s.files) != 403 || len(s.dirs) != 2 {
		t.Errorf("%d files, %d dirs", len(s.files), len(s.dirs))
	}

	// The sparse file really has zero-size (sparse) block entries, and the
	// big directory is an extended inode.
	img, _ := Open(bytes.NewReader(b), int64(len(b)))
	m := newMetaReader(img)
	root, err := img.readInodeV4(m, img.sb.RootInode)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := img.readDirV4(m, root)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range ents {
		in, err := img.readInodeV4(m, e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		switch e.Name {
		case "sparse.bin":
			sizes := make([]uint32, in.NumBlocks)
			c := in.blockList
			if err := img.readBlockSizes(&c, sizes, make([]byte, 4*len(sizes))); err != nil {
				t.Fatal(err)
			}
			zero := 0
			for _, s := range sizes {
				if s == 0 {
					zero++
				}
			}
			if zero < 2 {
				t.Errorf("sparse.bin block sizes %v: no sparse blocks", sizes)
			}
			found++
		case "big":
			if !in.Extended {
				t.Errorf("big/ is not an extended directory inode")
			}
			found++
		}
	}
	if found != 2 {
		t.Errorf("found %d of the inspected entries", found)
	}
}

// TestTruncatedPrefixes cuts the image everywhere: never a panic, always an
// error, and the partial trees only hold intact content.
func TestTruncatedPrefixes(t *testing.T) {
	b := readFixture(t, "testdata/features.img")
	img, _ := Open(bytes.NewReader(b), int64(len(b)))
	used := int(img.sb.BytesUsed)
	full := newMemSink()
	if err := extractBytes(t, b, full); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < used; n += 97 {
		s := newMemSink()
		err := extractBytes(t, b[:n], s)
		if err == nil {
			t.Fatalf("prefix of %d bytes: no error", n)
		}
		if n >= SuperblockSize && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("prefix of %d bytes: error does not say truncated: %v", n, err)
		}
		for name, f := range s.files {
			if want := full.files[name]; want == nil || !bytes.HasPrefix(want.Bytes(), f.Bytes()) {
				t.Errorf("prefix of %d bytes: %s has wrong content", n, name)
			}
		}
	}
}

// TestCorruptBytes flips bytes all over the image: never a panic or a
// hang.
func TestCorruptBytes(t *testing.T) {
	b := readFixture(t, "testdata/features.img")
	errs := 0
	for i := 0; i < len(b); i += 31 {
		c := append([]byte(nil), b...)
		c[i] ^= 0xa5
		if err := extractBytes(t, c, newMemSink()); err != nil {
			errs++
		}
	}
	if errs == 0 {
		t.Error("no corruption was noticed")
	}
}

// patchName rewrites an entry name in the uncompressed loop fixture.
func loopFixture(t *testing.T) []byte {
	p := filepath.Join("..", "..", "testdata", "firmware", "sqfs-loop.img")
	return readFixture(t, p)
}

func TestBadNames(t *testing.T) {
	for _, bad := range []string{"fi/e.txt", "..", "."} {
		b := loopFixture(t)
		i := bytes.Index(b, []byte("file.txt"))
		if i < 0 {
			t.Fatal("entry name not found")
		}
		// entry: offset u16, inode delta s16, type u16, name_size u16, name
		copy(b[i:], bad)
		b[i-2] = byte(len(bad) - 1)
		s := newMemSink()
		err := extractBytes(t, b, s)
		got := strings.Join(s.anomalies, "\n")
		if !strings.Contains(got, AnomalyBadName) {
			t.Errorf("%q: no bad-name anomaly (err %v, anomalies %q)", bad, err, got)
		}
		if len(s.files) != 0 {
			t.Errorf("%q: files written: %v", bad, s.files)
		}
	}
}

func TestLoopFixture(t *testing.T) {
	s := newMemSink()
	extractBytes(t, loopFixture(t), s)
	if !strings.Contains(strings.Join(s.anomalies, "\n"), AnomalyLoop) {
		t.Errorf("no loop anomaly: %v", s.anomalies)
	}
	if s.files["a/file.txt"] == nil {
		t.Errorf("a/file.txt not extracted: %v", s.files)
	}
}

// TestFatalStops checks that a fatal Sink error (a limit) ends the
// extraction and is returned.
func TestFatalStops(t *testing.T) {
	s := newMemSink()
	s.maxFiles = 10
	err := extractBytes(t, readFixture(t, "testdata/features.img"), s)
	if !errors.Is(err, errLimit) {
		t.Fatalf("err = %v, want the limit", err)
	}
	if len(s.files) != 10 {
		t.Errorf("%d files written", len(s.files))
	}
}

// sharedSample reads a sample of ../shared/firmware (skipped when missing,
// except in CI).
func sharedSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "firmware", name))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return b
}

func TestParseSuperblockOld(t *testing.T) {
	for _, tc := range []struct {
		file         string
		major, minor uint16
		order        binary.ByteOrder
		frags        uint32
	}{
		{"formats/fact_squashFS__lzma_be.sqfs2", 2, 76, binary.BigEndian, 1},
		{"formats/fact_squashFS__lzma1_le.sqfs3", 3, 76, binary.LittleEndian, 1},
		{"real/zyxel_p663h51_rootfs_squashfs_v2.bin", 2, 0, binary.BigEndian, 0},
	} {
		b := sharedSample(t, tc.file)
		sb, err := ParseSuperblock(b[:MaxSuperblockSize])
		if err != nil || sb.Major != tc.major || sb.Minor != tc.minor || sb.Order != tc.order ||
			sb.FragCount != tc.frags || sb.BytesUsed == 0 || sb.BytesUsed > uint64(len(b)) || sb.BlockSize != 65536 {
			t.Errorf("%s: %+v, %v", tc.file, sb, err)
		}
	}
}

// sha of the three files of FACT's SquashFS samples (the xz one checked
// with unsquashfs).
var factFiles = map[string]string{
	"generic folder/test file 3_.txt": "289b5a050a83837f192d7129e4c4e02570b94b4924e50159fad5ed1067cfbfeb",
	"testfile1":                       "d558c9339cb967341d701e3184f863d3928973fccdc1d96042583730b5c7b76a",
	"testfile2":                       "faa11db49f32a90b51dfc3f0254f9fd7a7b46d0b570abd47e1943b86d554447a",
}

// TestFactSamples extracts FACT's SquashFS samples: 2.x big-endian and
// 3.x little-endian with raw LZMA (no header, end marker; compressed
// metadata and one fragment), AVM's big-endian 4.0 and 4.0 xz.
func TestFactSamples(t *testing.T) {
	for _, tc := range []struct{ file, comp string }{
		{"fact_squashFS__lzma_be.sqfs2", "lzma-raw lc=3 lp=0 pb=2"},
		{"fact_squashFS__lzma1_le.sqfs3", "lzma-raw lc=3 lp=0 pb=2"},
		{"fact_squashFS__avm_be.sqfs4", "xz"},
		{"fact_squashFS__xz.sqfs", "xz"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := sharedSample(t, filepath.Join("formats", tc.file))
			img, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			s := newMemSink()
			if err := img.Extract(context.Background(), s, Options{}); err != nil {
				t.Fatal(err)
			}
			if len(s.files) != len(factFiles) || len(s.dirs) != 1 || s.dirs["generic folder"] == 0 || len(s.anomalies) != 0 {
				t.Errorf("files %d, dirs %v, anomalies %v", len(s.files), s.dirs, s.anomalies)
			}
			for name, want := range factFiles {
				f := s.files[name]
				if f == nil {
					t.Errorf("%s missing", name)
					continue
				}
				if h := sha256.Sum256(f.Bytes()); hex.EncodeToString(h[:]) != want {
					t.Errorf("%s: content %q", name, f.String())
				}
			}
			if got := img.Compression(); !strings.Contains(got, tc.comp) {
				t.Errorf("compression %q, want %q", got, tc.comp)
			}
		})
	}
}

// TestAVMBigEndian reads AVM's big-endian SquashFS 4 (xz), whose metadata
// block headers stay little-endian.
func TestAVMBigEndian(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "firmware", "formats", "fact_squashFS__avm_be.sqfs4")
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	s := newMemSink()
	if err := extractBytes(t, b, s); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"testfile2":                       "This is the second test file",
		"generic folder/test file 3_.txt": "The third test file!",
	}
	for name, content := range want {
		if f := s.files[name]; f == nil || !strings.HasPrefix(f.String(), content) {
			t.Errorf("%s: %v", name, f)
		}
	}
	if f := s.files["testfile1"]; f == nil || !strings.Contains(f.String(), "MyTestRule 1.2.3") {
		t.Errorf("testfile1: %v", f)
	}
	if len(s.files) != 3 || len(s.dirs) != 1 || len(s.anomalies) != 0 {
		t.Errorf("files %d, dirs %v, anomalies %v", len(s.files), s.dirs, s.anomalies)
	}
}

// TestCancel checks that a cancelled context ends the extraction.
func TestCancel(t *testing.T) {
	b := readFixture(t, "testdata/features.img")
	img, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newMemSink()
	if err := img.Extract(ctx, s, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(s.files) > 50 {
		t.Errorf("%d files written after cancellation", len(s.files))
	}
}

// FuzzImage runs the parser on mutated images with an in-memory sink.
func FuzzImage(f *testing.F) {
	f.Add(readFixture(f, "testdata/features.img"))
	for _, n := range []string{"sqfs-loop.img", "sqfs-lz4.img", "sqfs-zstd.img", "sqfs-xz.img", "sqfs-lzo.img"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "firmware", n)); err == nil {
			f.Add(b)
		}
	}
	for name, o := range oldImages { // SquashFS 1.x-3.x
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		} else {
			f.Add(o.build())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newMemSink()
		s.maxFiles, s.maxBytes = 2000, 32<<20
		err := extractBytes(t, b, s)
		if err == nil && len(b) < SuperblockSize {
			t.Fatal("no error on a short input")
		}
	})
}

// TestCorruptFragmentBlock: a fragment block that does not decode fails
// exactly the files whose tails it holds (each reported), while the files
// of other blocks are whole. The tails of one block wait for its one decode
// in their writers; with hundreds of them (features.img's 400-entry
// directory) the extraction still ends.
func TestCorruptFragmentBlock(t *testing.T) {
	b := readFixture(t, "testdata/features.img")
	img, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if img.sb.FragCount == 0 {
		t.Fatal("features.img has no fragment blocks")
	}
	pos, size, err := img.fragEntry(newMetaReader(img), 0)
	if err != nil {
		t.Fatal(err)
	}
	if size&(1<<24) != 0 || size&0xffffff < 16 {
		t.Fatalf("fragment block 0 is stored raw or tiny (size word %#x)", size)
	}
	bad := bytes.Clone(b)
	for i := pos + 2; i < pos+int64(size&0xffffff)-2; i++ {
		bad[i] ^= 0x5a
	}
	want := newMemSink()
	if err := extractBytes(t, b, want); err != nil {
		t.Fatal(err)
	}
	got := newMemSink()
	if err := extractBytes(t, bad, got); err == nil {
		t.Fatal("a corrupt fragment block gave no error")
	}
	failed := map[string]bool{}
	for _, a := range got.anomalies {
		if strings.Contains(a, "fragment block at") {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, AnomalyMalformed+" "), ":")
			failed[name] = true
		}
	}
	if len(failed) < 400 {
		t.Fatalf("%d files reported for the corrupt fragment block, want every tail in it (400 and more): %v", len(failed), got.anomalies[:min(5, len(got.anomalies))])
	}
	whole := 0
	for name, w := range want.files {
		if failed[name] {
			continue
		}
		g := got.files[name]
		if g == nil || !bytes.Equal(g.Bytes(), w.Bytes()) {
			t.Errorf("%s: not reported, yet not whole", name)
		}
		whole++
	}
	if whole == 0 {
		t.Error("no file outside the corrupt fragment block to compare")
	}
}
