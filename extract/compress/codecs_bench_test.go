package compress

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	uxz "github.com/ulikunitz/xz"
	ulzma "github.com/ulikunitz/xz/lzma"
)

// BenchmarkCodecs decodes the same 4 MiB of firmware-like data with every
// block decoder, reporting MB/s of output and allocations per op:
// go test -run - -bench Codecs -benchmem ./extract/compress/
// bzip2 and lzo have no encoder among the dependencies; BenchmarkFormats
// (bzip2) and the SquashFS benchmarks in ./extract cover them.
func BenchmarkCodecs(b *testing.B) {
	data := testPayload(4 << 20)
	enc := map[string]func() []byte{
		"gzip": func() []byte {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"zlib": func() []byte {
			var buf bytes.Buffer
			w := zlib.NewWriter(&buf)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"deflate": func() []byte {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"xz": func() []byte {
			var buf bytes.Buffer
			w, _ := uxz.NewWriter(&buf)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"lzma": func() []byte {
			var buf bytes.Buffer
			w, _ := ulzma.NewWriter(&buf)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"lz4": func() []byte {
			out := make([]byte, lz4.CompressBlockBound(len(data)))
			n, _ := lz4.CompressBlock(data, out, nil)
			return out[:n]
		},
		"lz4-frame": func() []byte {
			var buf bytes.Buffer
			w := lz4.NewWriter(&buf)
			w.Write(data)
			w.Close()
			return buf.Bytes()
		},
		"zstd": func() []byte {
			e, _ := zstd.NewWriter(nil)
			defer e.Close()
			return e.EncodeAll(data, nil)
		},
	}
	enc["xz-ref"], enc["lzma-ref"] = enc["xz"], enc["lzma"]
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			c, _ := Get(name)
			mk, ok := enc[name]
			if !ok || c.Block == nil {
				b.Skip("no encoder for", name, "among the dependencies")
			}
			src := mk()
			out, err := c.Block(nil, src, len(data))
			if err != nil || !bytes.Equal(out, data) {
				b.Fatalf("%s does not give the data back: %v", name, err)
			}
			buf := make([]byte, 0, len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if out, err := c.Block(buf, src, len(data)); err != nil || len(out) != len(data) {
					b.Fatal(name, err)
				}
			}
		})
	}
}

// BenchmarkXZStream decodes one xz stream as a .deb's data.tar.xz is (one
// block, a dictionary smaller than the output) and as xz -T writes it
// (blocks of 1 MiB) with the decoders extraction chooses between: the
// one-pass path (DecodeXZStream), xi2's streaming reader, and ulikunitz
// (the reference):
// go test -run - -bench XZStream -benchmem ./extract/compress/
func BenchmarkXZStream(b *testing.B) {
	data := testPayload(8 << 20)
	for _, layout := range []struct {
		name string
		cfg  uxz.WriterConfig
	}{{"one-block", uxz.WriterConfig{CheckSum: uxz.CRC64, DictCap: 2 << 20}},
		{"1MiB-blocks", uxz.WriterConfig{CheckSum: uxz.CRC64, DictCap: 2 << 20, BlockSize: 1 << 20}}} {
		src := xzEncode(b, data, layout.cfg)
		b.Run(layout.name+"/one-pass", func(b *testing.B) {
			buf := make([]byte, 0, len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				out, n, ok := DecodeXZStream(buf, src, len(data), DictLimit)
				if !ok || n != len(src) || len(out) != len(data) {
					b.Fatal("one-pass path not taken")
				}
			}
		})
		b.Run(layout.name+"/xi2", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if out, err := xi2Decode(src); err != nil || len(out) != len(data) {
					b.Fatal(err)
				}
			}
		})
		b.Run(layout.name+"/ulikunitz", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if out := xzReference(b, src); len(out) != len(data) {
					b.Fatal(len(out))
				}
			}
		})
	}
}
