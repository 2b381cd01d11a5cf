package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets of the formats that had none: the stream formats, the
// recognised-only formats, the encrypted containers, and the carving
// decisions.

func fuzzStream(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add(fuzzFixture(s))
	}
	fm, _ := Lookup(format)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !fm.Identify(data[:min(len(data), HeaderSize)]) {
			return
		}
		fuzzCtr(t, format, data)
	})
}

func FuzzGzip(f *testing.F) { fuzzStream(f, "gzip", "data.gz", "gzip-truncated.gz") }

// FuzzBzip2 also gets data.bz2 with a 100 kB block size ("BZh1", valid
// for its 1.6 kB of data): a decoder for "BZh9" allocates 3.6 MB per input.
func FuzzBzip2(f *testing.F) {
	b := bytes.Clone(fuzzFixture("data.bz2"))
	if len(b) > 4 {
		b[3] = '1'
		f.Add(b)
	}
	fuzzStream(f, "bzip2", "data.bz2")
}
func FuzzLZ4(f *testing.F)  { fuzzStream(f, "lz4", "data.lz4") }
func FuzzZstd(f *testing.F) { fuzzStream(f, "zstd", "data.zst") }

// FuzzKnown runs every recognised-only and encrypted format: Identify,
// Bound and Unpack must agree and stay inside the data.
func FuzzKnown(f *testing.F) {
	for _, n := range []string{"enc-dlink-shrs.bin", "enc-dlink-encrpted_img.bin", "enc-dlink-tlv.bin", "enc-tplink-cloud.bin", "enc-openssl.bin", "enc-netgear.img", "enc-pepwave.bin", "enc-gpg-password.gpg", "enc-gpg-rsa.gpg"} {
		f.Add(fuzzFixture(n)[:4096])
	}
	for _, n := range []string{"fact_dlink__fw_mh01_test.bin", "binwalk_7z.bin", "binwalk_qcow.bin", "fact_draytek_vigor_167__valid_draytekvigor167_image.bin"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "firmware", "formats", n)); err == nil {
			f.Add(b[:min(len(b), 1024)])
		}
	}
	var formats []Format
	for _, fm := range Formats() {
		switch fm.(type) {
		case *knownFormat, *encryptedFormat:
			formats = append(formats, fm)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hdr := data[:min(len(data), HeaderSize)]
		for _, fm := range formats {
			if !fm.Identify(hdr) {
				continue
			}
			b, err := fm.Bound(bytes.NewReader(data), int64(len(data)))
			if err != nil || b > int64(len(data)) {
				t.Fatalf("%s: Bound = %d, %v of %d", fm.Name(), b, err, len(data))
			}
			_, n, err := fuzzCtr(t, fm.Name(), data)
			if err == nil {
				t.Fatalf("%s: Unpack of a recognised-only format succeeded", fm.Name())
			}
			var ee *EncryptedError
			if _, enc := fm.(*encryptedFormat); enc && n > 0 && !errorsAs(err, &ee) {
				t.Fatalf("%s: consumed %d without an EncryptedError: %v", fm.Name(), n, err)
			}
		}
	})
}

// FuzzCarve runs the carving decision on arbitrary member headers, tails
// and sizes: it never carves a final type or past a budget, and a file
// over the per-file budget is reported.
func FuzzCarve(f *testing.F) {
	f.Add(fuzzFixture("login.cgi")[:512], fuzzFixture("login.cgi")[:64], int64(20000))
	f.Add([]byte("#!/bin/sh\necho hi\n"), fuzzFixture("sqfs-xz.img")[:512], int64(1<<20))
	f.Add([]byte("Grüße\n"), []byte("\xe2\x9c"), int64(16<<10))
	f.Fuzz(func(t *testing.T, hdr, tail []byte, size int64) {
		c := newCarveBudget(Limits{CarveImageBytes: 1 << 20})
		l := &Layer{}
		d := c.planMember(l, "/m", hdr, tail, size)
		if d == carveFull && (size < c.minSize || size > c.fileBytes || finalType(hdr, tail) != "") {
			t.Fatalf("carved a member of %d bytes, final type %q", size, finalType(hdr, tail))
		}
		if c.used > c.maxBytes {
			t.Fatalf("budget overrun: %d of %d", c.used, c.maxBytes)
		}
		if d == carveAnchored && size > c.fileBytes && finalType(hdr, tail) == "" && len(l.Anomalies) != 1 {
			t.Fatalf("per-file budget hit without an anomaly: %+v", l.Anomalies)
		}
	})
}
