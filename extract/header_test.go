package extract

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestProtectionFacts: each container records how its own header protects
// the content, from fixtures built by mkimage, mktrx.py and mktplink.py.
func TestProtectionFacts(t *testing.T) {
	cases := []struct {
		fixture, format, kind, algos, detail string
		verified                             bool
	}{
		{"tplink.bin", "tplink", ProtectionChecksum, "md5", "salted with a fixed value", true},
		{"uimage-gzip.bin", "uimage", ProtectionChecksum, "crc32", "the format has no signature", true},
		{"uimage-multi.bin", "uimage", ProtectionChecksum, "crc32", "legacy uImage", true},
		{"trx.bin", "trx", ProtectionChecksum, "crc32", "TRX header", true},
		{"fit.itb", "fit", ProtectionChecksum, "crc32,sha1,sha256", "no signature node", true},
		{"fit-signed.itb", "fit", ProtectionSignature, "sha256,rsa2048", "/configurations/conf-1/signature-1 (sha256,rsa2048, key dev)", false},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			w, _, err := ctrUnpack(t, c.format, ctrFixture(t, c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			p, _ := w.header()
			if p == nil {
				t.Fatal("no protection recorded")
			}
			if p.Kind != c.kind || strings.Join(p.Algorithms, ",") != c.algos || p.Verified != c.verified {
				t.Errorf("protection = %+v, want kind %s algorithms %s verified %v", *p, c.kind, c.algos, c.verified)
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q lacks %q", p.Detail, c.detail)
			}
		})
	}
}

// TestProtectionBadChecksum: a changed byte leaves the protection recorded
// but not verified.
func TestProtectionBadChecksum(t *testing.T) {
	img := bytes.Clone(ctrFixture(t, "tplink.bin"))
	img[len(img)-1] ^= 1
	w, _, err := ctrUnpack(t, "tplink", img)
	if err != nil {
		t.Fatal(err)
	}
	p, id := w.header()
	if p == nil || p.Verified || !strings.Contains(p.Detail, "does not match") {
		t.Errorf("protection = %+v, want an unverified MD5", p)
	}
	if id == nil || id.Vendor == "" {
		t.Errorf("identity = %+v", id)
	}
}

// TestFITUnsignedSignatureNode: a signature node mkimage was not given a
// key for has no value; it is not a signature.
func TestFITUnsignedSignatureNode(t *testing.T) {
	root := &fdtNode{Children: []*fdtNode{
		{Name: "configurations", Children: []*fdtNode{{Name: "conf-1", Children: []*fdtNode{
			{Name: "signature-1", Props: []fdtProperty{{Name: "algo", Value: []byte("sha256,rsa2048\x00")}}},
		}}}},
	}}
	w, err := NewWriter(t.TempDir(), DefaultLimits(), 0)
	if err != nil {
		t.Fatal(err)
	}
	fitRecord(w, root, map[string]bool{}, true)
	p, _ := w.header()
	if p == nil || p.Kind != ProtectionNone || !strings.Contains(p.Detail, "never signed") {
		t.Errorf("protection = %+v, want none with the unsigned node named", p)
	}
}

// TestTPLinkIdentityReal reads vendor, model and release from the real
// TL-WR841N v10 and TL-MR3020 v1 update headers.
func TestTPLinkIdentityReal(t *testing.T) {
	for name, want := range map[string]Identity{
		"tplink_wr841nv10_en_3_16_9_up_boot_150310.bin": {Vendor: "TP-LINK Technologies", Product: "841 v10", Version: "3.16.9", Hardware: "hw_id 0x08410010 rev 1"},
		"tplink_mr3020_v1_3.17.2_testroot.tpl":          {Vendor: "TP-LINK Technologies", Product: "3020 v1", Version: "3.17.2", Hardware: "hw_id 0x30200001 rev 1"},
	} {
		t.Run(name, func(t *testing.T) {
			img := filepath.Join(sharedDir(t), "real", name)
			res, err := Extract(context.Background(), img, t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var top *Layer
			for _, l := range res.Layers {
				if l.Format == "tplink" {
					top = l
					break
				}
			}
			if top == nil || top.Identity == nil || top.Protection == nil {
				t.Fatalf("no TP-Link layer with identity and protection: %+v", top)
			}
			if *top.Identity != want {
				t.Errorf("identity = %+v, want %+v", *top.Identity, want)
			}
			if top.Protection.Kind != ProtectionChecksum || !top.Protection.Verified {
				t.Errorf("protection = %+v, want a verified MD5 checksum", *top.Protection)
			}
			kinds := map[string]bool{}
			for _, l := range res.Layers {
				if l.Protection != nil {
					kinds[l.Format+":"+l.Protection.Kind] = true
				}
			}
			if !kinds["uimage:checksum"] {
				t.Errorf("no uImage checksum layer among %v", kinds)
			}
		})
	}
}
