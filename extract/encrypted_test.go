package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEncryptedContainers(t *testing.T) {
	for _, tc := range []struct {
		fixture, format, scheme string
		size                    int64
	}{
		{"enc-dlink-shrs.bin", "dlink-shrs", "D-Link SHRS (AES-128-CBC, RSA-signed), 16384 bytes decrypted", 18140},
		{"enc-dlink-encrpted_img.bin", "dlink-encrpted-img", "D-Link encrpted_img (AES-256-CBC)", 16400},
		{"enc-dlink-tlv.bin", "dlink-tlv", "D-Link TLV (OpenSSL AES-256-CBC)", 16532},
		{"enc-tplink-cloud.bin", "tplink-cloud", "TP-Link cloud firmware (RSA-2048 signed, AES-encrypted), fw-type:Cloud", 16944},
		{"enc-openssl.bin", "openssl-enc", "OpenSSL enc (salted, password-derived key)", 16416},
		{"enc-netgear.img", "netgear-encrypted", "Netgear encrypted image (AES-256-CBC), WAX206 US V1.0.5.1", 16920},
		{"enc-pepwave.bin", "pepwave-enc", "Pepwave (OpenSSL enc, salted, password-derived key)", 16416},
		{"enc-gpg-password.gpg", "openpgp-encrypted", "OpenPGP encrypted message (GnuPG), password, AES-256", 16464},
	} {
		t.Run(tc.format, func(t *testing.T) {
			res := extractFixture(t, tc.fixture, DefaultLimits())
			if len(res.Layers) != 2 {
				t.Fatalf("want the image and one encrypted layer, got %v", layerPaths(res))
			}
			l := res.Layers[1]
			if l.Path != tc.format+"@0x0" || l.Status != StatusUnsupported || l.Encryption != tc.scheme || l.Size != tc.size {
				t.Fatalf("layer %s status %s encryption %q size %d; want %s@0x0 unsupported %q %d", l.Path, l.Status, l.Encryption, l.Size, tc.format, tc.scheme, tc.size)
			}
			want := "encrypted with " + tc.scheme + ": cannot be assessed without the vendor key"
			if l.Error != tc.format+": "+want {
				t.Errorf("error %q, want %q", l.Error, want)
			}
			if len(l.Anomalies) != 1 || l.Anomalies[0].Kind != AnomalyEncryptedImage || l.Anomalies[0].Detail != want {
				t.Errorf("anomalies %+v", l.Anomalies)
			}
		})
	}
}

// The same headers in front of data that is not ciphertext are not
// encrypted images, and an encrypted image inside an archive is found.
func TestEncryptedNeedsCiphertext(t *testing.T) {
	for _, name := range []string{"enc-dlink-shrs.bin", "enc-openssl.bin", "enc-tplink-cloud.bin", "enc-netgear.img", "enc-gpg-rsa.gpg"} {
		b, err := os.ReadFile(fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		hdr := 16
		switch {
		case strings.Contains(name, "shrs"):
			hdr = 0x6dc
		case strings.Contains(name, "tplink"):
			hdr = 0x230
		case strings.Contains(name, "netgear"):
			hdr = 0x214
		case strings.Contains(name, "gpg"):
			hdr = 0x150 // past the RSA session-key packet
		}
		copy(b[hdr:], bytes.Repeat([]byte("plain text, not ciphertext\n"), (len(b)-hdr)/27))
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, b, 0o644)
		res := extractPath(t, p, DefaultLimits())
		for _, l := range res.Layers {
			if l.Encryption != "" {
				t.Errorf("%s with a plain-text payload reported as encrypted: %v", name, layerPaths(res))
			}
		}
	}
}

func TestEncryptedInsideBlob(t *testing.T) {
	enc, err := os.ReadFile(fixture(t, "enc-dlink-encrpted_img.bin"))
	if err != nil {
		t.Fatal(err)
	}
	img := append(bytes.Repeat([]byte{0xff}, 0x10000), enc...)
	img = append(img, bytes.Repeat([]byte{0xff}, 0x1000)...)
	p := filepath.Join(t.TempDir(), "flash.bin")
	os.WriteFile(p, img, 0o644)
	res, err := Extract(context.Background(), p, filepath.Join(t.TempDir(), "w"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := layerByPath(res, "dlink-encrpted-img@0x10000")
	if l == nil || l.Encryption == "" || l.Size != int64(len(enc)) {
		t.Fatalf("no encrypted layer at 0x10000 of %d bytes: %v", len(enc), layerPaths(res))
	}
}

// A raw flash dump's boot loader (no uImage) is kept as a layer with its
// bytes, so its banner is seen.
func TestBootLoaderRegion(t *testing.T) {
	res := extractFixture(t, "flash-uboot2013.bin", DefaultLimits())
	l := layerByPath(res, "bootloader@0x0")
	if l == nil || l.Status != StatusOK || l.Size != 0x20000 || l.Files != 1 {
		t.Fatalf("no boot loader layer of 0x20000 bytes: %v", layerPaths(res))
	}
	b, err := os.ReadFile(filepath.Join(l.Root, "bootloader.bin"))
	if err != nil || len(b) != 0x20000 || !bytes.Contains(b, []byte("U-Boot 2013.07 (Oct 21 2014 - 14:35:02)")) {
		t.Fatalf("bootloader.bin: %d bytes, %v", len(b), err)
	}
	if layerByPath(res, "squashfs@0x20000") == nil {
		t.Fatalf("no squashfs at 0x20000: %v", layerPaths(res))
	}
	// no banner, no layer: the HG532e update's vendor header is not a boot loader
	bin := zipMember(t, "hg532e-update.zip", hg532eBin)
	for _, l := range extractPath(t, bin, DefaultLimits()).Layers {
		if l.Format == "bootloader" {
			t.Fatalf("boot loader layer in an image without a boot loader banner")
		}
	}
}

// The boot loader region of a dump inside an update zip is kept too: the
// member unpacks as the dump alone.
func TestBootLoaderRegionInZip(t *testing.T) {
	dump, err := os.ReadFile(fixture(t, "flash-uboot2013.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fw, _ := zw.Create("flash.bin")
	fw.Write(dump)
	zw.Close()
	p := filepath.Join(t.TempDir(), "update.zip")
	os.WriteFile(p, buf.Bytes(), 0o644)
	want := layerSummary(t, extractFixture(t, "flash-uboot2013.bin", DefaultLimits()), "")
	got := layerSummary(t, extractPath(t, p, DefaultLimits()), "zip@0x0 > /flash.bin > ")
	if !slices.Contains(want, "bootloader@0x0 bootloader ok 1 131072 131072 0") || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("in zip:\n%s\nalone:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A password-protected zip member is not extracted: the layer names the
// protection and is partial, so nothing downstream counts it as checked.
func TestEncryptedZipEntries(t *testing.T) {
	res := extractFixture(t, "enc-zip.zip", DefaultLimits())
	l := layerByPath(res, "zip@0x0")
	if l == nil || l.Status != StatusPartial || l.Encryption != "zip password protection" || l.Files != 1 ||
		l.Error != "1 entry not extracted: encrypted with zip password protection: cannot be assessed without the vendor key" {
		t.Fatalf("zip layer %+v", l)
	}
}

// A message encrypted to a public key names the key (its ID is random per
// fixture build), and what only looks like a session-key packet is not
// taken for one.
func TestEncryptedOpenPGPKey(t *testing.T) {
	res := extractFixture(t, "enc-gpg-rsa.gpg", DefaultLimits())
	if len(res.Layers) != 2 {
		t.Fatalf("want the image and one encrypted layer, got %v", layerPaths(res))
	}
	l := res.Layers[1]
	if !regexp.MustCompile(`^OpenPGP encrypted message \(GnuPG\), to key [0-9A-F]{16} \(RSA\)$`).MatchString(l.Encryption) ||
		l.Status != StatusUnsupported || l.Size != 16720 {
		t.Fatalf("layer %s status %s encryption %q size %d", l.Path, l.Status, l.Encryption, l.Size)
	}
	b, err := os.ReadFile(fixture(t, "enc-gpg-rsa.gpg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		off int
		val byte
	}{{3, 4} /* session-key packet version 4 */, {12, 99} /* no such algorithm */, {0x10f, 0x8c} /* no data packet after it */} {
		h := bytes.Clone(b[:4096])
		h[bad.off] = bad.val
		if openpgpESK(h) != "" {
			t.Errorf("byte %#x = %#x: still taken for an OpenPGP message", bad.off, bad.val)
		}
	}
}
