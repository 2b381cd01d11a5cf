package squashfs

import (
	"bytes"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fwaudit/fwaudit/extract/compress"
	uxz "github.com/ulikunitz/xz"
	xi2 "github.com/xi2/xz"
)

// benchBlockSize is mksquashfs's default block size.
const benchBlockSize = 128 << 10

// benchBlocks returns plain blocks of firmware-like data and each block
// compressed as mksquashfs -comp xz does (one xz stream per block, CRC32,
// LZMA2). FWAUDIT_BENCH_DIR names a folder whose files (say an unpacked
// root file system) are cut into blocks instead of the synthetic payload.
func benchBlocks(b *testing.B) (plain, comp [][]byte) {
	var data []byte
	if dir := os.Getenv("FWAUDIT_BENCH_DIR"); dir != "" {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && len(data) < 32<<20 {
				if c, err := os.ReadFile(p); err == nil {
					data = append(data, c...)
				}
			}
			return nil
		})
	} else {
		r := rand.New(rand.NewSource(7))
		var buf bytes.Buffer
		words := []string{"root:x:0:0:root:/root:/bin/sh\n", "\x7fELF\x01\x01\x01", "busybox", "/etc/init.d/rcS", "\x00\x00\x00\x01", "dropbear", "0123456789", "GLIBC_2.4"}
		for buf.Len() < 8<<20 {
			if r.Intn(5) == 0 {
				var x [24]byte
				r.Read(x[:])
				buf.Write(x[:])
			} else {
				buf.WriteString(words[r.Intn(len(words))])
			}
		}
		data = buf.Bytes()
	}
	cfg := uxz.WriterConfig{CheckSum: uxz.CRC32, DictCap: benchBlockSize}
	for off := 0; off+benchBlockSize <= len(data); off += benchBlockSize {
		blk := data[off : off+benchBlockSize]
		var c bytes.Buffer
		w, err := cfg.NewWriter(&c)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(blk)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		plain = append(plain, blk)
		comp = append(comp, c.Bytes())
	}
	if len(plain) == 0 {
		b.Skip("no data")
	}
	return plain, comp
}

// BenchmarkXZBlockDecoders decodes the same xz blocks with each decoder
// fwaudit could use for SquashFS data blocks and reports MB/s (of output),
// cpu-MB/s (by the process's CPU time, steadier than wall time on a shared
// machine) and allocations:
//
//	go test -run - -bench XZBlockDecoders -benchmem ./extract/squashfs/
//
// squashfs-path is what extraction uses (the one-pass LZMA2 decoder of
// compress.DecodeXZSingle, xi2 as the fallback); xi2-reused is one xi2/xz
// reader and its dictionary reused for every block (the path before);
// xi2-new builds a reader per block; ulikunitz is the reference decoder the
// tests compare against.
func BenchmarkXZBlockDecoders(b *testing.B) {
	plain, comp := benchBlocks(b)
	var total int64
	for _, p := range plain {
		total += int64(len(p))
	}
	run := func(b *testing.B, decode func(dst, src []byte) ([]byte, error)) {
		dst := make([]byte, 0, benchBlockSize+4096)
		b.ReportAllocs()
		b.SetBytes(total)
		b.ResetTimer()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			for k, c := range comp {
				out, err := decode(dst, c)
				if err != nil || !bytes.Equal(out, plain[k]) {
					b.Fatalf("block %d: %d bytes, %v", k, len(out), err)
				}
				dst = out[:0]
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(total)*float64(b.N)/1e6/(cpuTime()-c0).Seconds(), "cpu-MB/s")
	}
	b.Run("squashfs-path", func(b *testing.B) {
		x := &xzDecoder{}
		run(b, func(dst, src []byte) ([]byte, error) { return x.decode(dst, src, benchBlockSize) })
	})
	b.Run("xi2-reused", func(b *testing.B) {
		var z *xi2.Reader
		var br bytes.Reader
		run(b, func(dst, src []byte) ([]byte, error) {
			br.Reset(src)
			if z == nil {
				var err error
				if z, err = xi2.NewReader(&br, xzDictMax); err != nil {
					return nil, err
				}
			} else if err := z.Reset(&br); err != nil {
				return nil, err
			}
			z.Multistream(false)
			n, err := io.ReadFull(z, dst[:benchBlockSize])
			return dst[:n], err
		})
	})
	b.Run("xi2-new", func(b *testing.B) {
		run(b, func(dst, src []byte) ([]byte, error) {
			z, err := xi2.NewReader(bytes.NewReader(src), xzDictMax)
			if err != nil {
				return nil, err
			}
			n, err := io.ReadFull(z, dst[:benchBlockSize])
			return dst[:n], err
		})
	})
	b.Run("ulikunitz", func(b *testing.B) {
		c, _ := compress.Get("xz-ref")
		run(b, func(dst, src []byte) ([]byte, error) { return c.Block(dst, src, benchBlockSize) })
	})
}

// cpuTime is the CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
