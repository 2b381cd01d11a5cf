package components

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"github.com/fwaudit/fwaudit/internal/testcorpus"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers"
	rules "github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/extract"
)

func layer(dir, kind, p string) *extract.Layer {
	return &extract.Layer{ID: "L1", Path: p, Kind: kind, Root: dir, Format: "test"}
}

func catalog(t testing.TB, tg *analyzers.Target) []Component {
	t.Helper()
	cs, err := Catalog(context.Background(), tg, nil)
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	return cs
}

// summary renders components as sorted "name version" strings.
func summary(cs []Component) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+" "+c.Version)
	}
	sort.Strings(out)
	return out
}

func find(cs []Component, name, version string) *Component {
	for i := range cs {
		if cs[i].Name == name && cs[i].Version == version {
			return &cs[i]
		}
	}
	return nil
}

const elfHdr = "\x7fELF\x01\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func TestCatalogSynthetic(t *testing.T) {
	fsDir := testcorpus.Tree(t, map[string]string{
		"bin/busybox":                elfHdr + "\x00BusyBox v1.01 (2015.03.10-07:17+0000) multi-call binary\x00gzip\x00 deflate 1.2.4\x00",
		"sbin/busybox2":              elfHdr + "\x00BusyBox v1.01 (2015.03.10-07:17+0000) Built-in shell (msh)\x00",
		"usr/sbin/dropbearmulti":     elfHdr + "\x00Dropbear sshd v%s\x00SSH-2.0-dropbear_2012.55\x00SSH-2.0-dropbear_2012.55\x00",
		"lib/ld-uClibc-0.9.30.so":    elfHdr + "\x00ld-uClibc.so.0\x00",
		"lib/libuClibc-0.9.30.so":    elfHdr + "\x00__uClibc_main\x00",
		"lib/libcrypt-0.9.30.so":     elfHdr,
		"etc/motd":                   "BusyBox v9.9 (text files are not binaries)\n",
		"usr/bin/notcurl":            elfHdr + "\x00curl/7.1.1\x00",
		"usr/bin/curl":               elfHdr + "\x00curl/7.88.1\x00",
		"lib/modules/2.6.31/a.ko":    elfHdr + "\x00vermagic=2.6.31 mod_unload MIPS32_R2 32BIT \x00",
		"usr/share/doc/readme.bin":   "Linux version 9.9.9 (not a blob layer) (gcc)\x00",
		"usr/share/firmware/u.bin":   "\x00\x01U-Boot 1.1.4 (Mar 10 2015 - 15:00:39)\x00",
		"lib/libcrypto.so.0.9.7":     elfHdr + "\x00MD5 part of OpenSSL 0.9.7f 22 Mar 2005\x00SHA part of OpenSSL 0.9.7f 22 Mar 2005\x00",
		"usr/lib/libssl.so.0.9.7":    elfHdr + "\x00SSLv3 part of OpenSSL 0.9.7f 22 Mar 2005\x00",
		"usr/bin/openssl-vendorcopy": elfHdr + "\x00OpenSSL 0.9.7f 22 Mar 2005\x00",
	})
	blobDir := testcorpus.Tree(t, map[string]string{
		"kernel": "\x00\x00Linux version 2.6.31 (tomcat@buildserver) (gcc version 4.3.3 (GCC) ) #35\x00",
		"boot":   "\x00U-Boot 1.1.4 (Mar 10 2015 - 15:00:39)\x00",
		"elfish": elfHdr + "BusyBox v1.31.0 (2019-06-10 15:54:51 CEST)\x00",
	})
	tg := analyzers.NewTarget([]*extract.Layer{layer(fsDir, "filesystem", "squashfs@0x100000"), layer(blobDir, "stream", "lzma@0x0")})
	cs := catalog(t, tg)
	want := []string{
		"busybox 1.01", "busybox 1.31.0", "curl 7.88.1", "dropbear 2012.55",
		"linux_kernel 2.6.31", "openssl 0.9.7f", "u-boot 1.1.4", "uclibc 0.9.30",
	}
	if got := summary(cs); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	bb := find(cs, "busybox", "1.01")
	if len(bb.Locations) != 2 || bb.Locations[0].Path != "/bin/busybox" || bb.Locations[1].Path != "/sbin/busybox2" {
		t.Errorf("busybox locations %+v", bb.Locations)
	}
	if bb.Locations[0].Offset != int64(len(elfHdr)+1) || !strings.HasPrefix(bb.Locations[0].Evidence, "BusyBox v1.01 (2015.03.10-07:17+0000)") {
		t.Errorf("busybox evidence %+v", bb.Locations[0])
	}
	if bb.PURL != "pkg:generic/busybox@1.01" || !slices.Equal(bb.CPEs, []string{"cpe:2.3:a:busybox:busybox:1.01:*:*:*:*:*:*:*"}) {
		t.Errorf("busybox ids %s %v", bb.PURL, bb.CPEs)
	}
	// two dropbear idents in one file: one location
	if d := find(cs, "dropbear", "2012.55"); len(d.Locations) != 1 {
		t.Errorf("dropbear locations %+v", d.Locations)
	}
	// uClibc from two file names: one component, two paths
	uc := find(cs, "uclibc", "0.9.30")
	if len(uc.Locations) != 2 || uc.Locations[0].Evidence != "ld-uClibc-0.9.30.so" || uc.Type != "library" {
		t.Errorf("uclibc %+v", uc)
	}
	// kernel: from the blob and from the module, one row
	k := find(cs, "linux_kernel", "2.6.31")
	if len(k.Locations) != 2 || k.Type != "os" || k.Locations[0].Layer != "lzma@0x0" || k.Locations[1].Path != "/lib/modules/2.6.31/a.ko" {
		t.Errorf("kernel %+v", k)
	}
	// U-Boot only in the blob layer, not in the file system's firmware file
	if u := find(cs, "u-boot", "1.1.4"); len(u.Locations) != 1 || u.Locations[0].Path != "/boot" {
		t.Errorf("u-boot %+v", u)
	}
	if o := find(cs, "openssl", "0.9.7f"); len(o.Locations) != 3 {
		t.Errorf("openssl %+v", o)
	}
}

func TestCatalogEmptyAndVanished(t *testing.T) {
	if cs := catalog(t, analyzers.NewTarget(nil)); len(cs) != 0 {
		t.Fatalf("empty target: %+v", cs)
	}
	dir := testcorpus.Tree(t, map[string]string{"bin/busybox": elfHdr + "\x00BusyBox v1.01 (x)\x00", "bin/b2": elfHdr + "\x00BusyBox v1.02 (x)\x00"})
	tg := analyzers.NewTarget([]*extract.Layer{layer(dir, "filesystem", "fs")})
	// replace one file with a symlink after indexing: it is not followed
	os.Remove(filepath.Join(dir, "bin", "b2"))
	if err := os.Symlink("busybox", filepath.Join(dir, "bin", "b2")); err != nil {
		t.Fatal(err)
	}
	if got := summary(catalog(t, tg)); !slices.Equal(got, []string{"busybox 1.01"}) {
		t.Errorf("got %q", got)
	}
}

func TestCatalogCancelled(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"bin/busybox": elfHdr + "\x00BusyBox v1.01 (x)\x00"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Catalog(ctx, analyzers.NewTarget([]*extract.Layer{layer(dir, "filesystem", "fs")}), nil); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}

func TestCatalogCustomRules(t *testing.T) {
	rs, err := rules.Parse([]byte(`- id: acme
  name: acme
  type: binary
  files: ["**/acmed"]
  patterns: ['ACME daemon v(\d+\.\d+)']
  purl: "pkg:generic/acme@{version}"
  examples: {true: [{text: "ACME daemon v1.2", version: "1.2"}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := testcorpus.Tree(t, map[string]string{
		"usr/sbin/acmed": elfHdr + "ACME daemon v1.2\x00BusyBox v1.01 (x)\x00",
		"usr/sbin/other": elfHdr + "ACME daemon v9.9\x00",
	})
	cs, err := Catalog(context.Background(), analyzers.NewTarget([]*extract.Layer{layer(dir, "filesystem", "fs")}), rs)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(cs); !slices.Equal(got, []string{"acme 1.2"}) {
		t.Errorf("got %q", got)
	}
}

func TestVersionLess(t *testing.T) {
	vs := []string{"1.10", "1.9.1", "1.9", "0.9.30", "2012.55", "0.46", "1.2.13", "1.2.3", "0.9.7f", "0.9.7e"}
	sort.Slice(vs, func(i, j int) bool { return versionLess(vs[i], vs[j]) })
	want := []string{"0.9.7e", "0.9.7f", "0.9.30", "0.46", "1.2.3", "1.2.13", "1.9", "1.9.1", "1.10", "2012.55"}
	if !slices.Equal(vs, want) {
		t.Errorf("got %v", vs)
	}
}

// --- real firmware ---

func TestCatalogRealFirmware(t *testing.T) {
	cases := []struct {
		image string
		// want is exactly what must come out: EXPECTED.md's list plus the
		// extras verified by hand (noted).
		want []string
		// path of one location per component, to check attribution.
		paths map[string]string
	}{
		{
			image: "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin",
			want: []string{
				"busybox 1.01", "dropbear 2012.55", "hostapd 0.5.9",
				"iptables 1.4.5", // extra: /sbin/iptables-multi, "iptables-save v%s" + VERSION
				"linux_kernel 2.6.31", "pppd 2.4.3", "u-boot 1.1.4", "uclibc 0.9.30",
				"wpa_supplicant 0.5.9",
				"xl2tpd 1.1.12", // extra: /usr/sbin/xl2tpd, "xl2tpd-1.1.12"
				"zlib 1.1.4",    // extra: statically linked into /usr/bin/httpd ("deflate 1.1.4 Copyright 1995-2002 Jean-loup Gailly")
			},
			paths: map[string]string{
				"busybox 1.01": "/bin/busybox", "dropbear 2012.55": "/usr/sbin/dropbearmulti",
				"pppd 2.4.3": "/usr/sbin/pppd", "hostapd 0.5.9": "/sbin/hostapd",
				"wpa_supplicant 0.5.9": "/sbin/wpa_supplicant", "uclibc 0.9.30": "/lib/ld-uClibc-0.9.30.so",
				"zlib 1.1.4": "/usr/bin/httpd", "linux_kernel 2.6.31": "/lib/modules/2.6.31/kernel/xt_mac.ko",
			},
		},
		{
			image: "real/zyxel_p663h51_rootfs_squashfs_v2.bin",
			want: []string{
				"busybox 1.00", "dropbear 0.46",
				"iptables 1.2.11",   // extra: /bin/iptables
				"ipsec-tools 0.5.1", // extra: /bin/setkey, /bin/racoon
				"linux_kernel 2.6.8.1", "openssl 0.9.7f",
				"pppd 2.4.1", // extra: /bin/pppd
			},
			paths: map[string]string{
				"dropbear 0.46": "/bin/cfm", "openssl 0.9.7f": "/lib/libcrypto.so.0.9.7",
				"linux_kernel 2.6.8.1": "/lib/modules/2.6.8.1/extra/adsldd.ko",
			},
		},
		{
			image: "real/tplink_mr3020_v1_3.17.2_testroot.tpl",
			want:  []string{"linux_kernel 2.6.31", "u-boot 1.1.4"},
		},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.image), func(t *testing.T) {
			img := testcorpus.Shared(t, c.image)
			cs := catalog(t, testcorpus.ExtractTarget(t, img))
			for _, c := range cs {
				for _, l := range c.Locations {
					t.Logf("%s %s  %s %s @%d [%s] %q", c.Name, c.Version, l.Layer, l.Path, l.Offset, l.Rule, l.Evidence)
				}
			}
			got := summary(cs)
			want := slices.Clone(c.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("components\n got %q\nwant %q", got, want)
			}
			for k, p := range c.paths {
				name, version, _ := strings.Cut(k, " ")
				comp := find(cs, name, version)
				if comp == nil {
					continue // reported above
				}
				if !slices.ContainsFunc(comp.Locations, func(l Location) bool { return l.Path == p }) {
					t.Errorf("%s: no location %s in %+v", k, p, comp.Locations)
				}
			}
			// obvious non-components: busybox applets and libraries named
			// in strings must not become components of their own
			for _, c := range cs {
				switch c.Name {
				case "gzip", "wget", "udhcpc", "tar", "openssh", "curl", "libcurl", "glibc", "musl", "uclibc-ng":
					t.Errorf("phantom component %s %s at %+v", c.Name, c.Version, c.Locations)
				}
				if len(c.CPEs) == 0 || c.PURL == "" {
					t.Errorf("%s %s: missing CPE/PURL", c.Name, c.Version)
				}
			}
		})
	}
}

// TestCatalogBareBusyBox: the bare static binaries are images the engine
// reports as unsupported, with no files; the lead adds the image itself as a
// pseudo-layer file. Here a Target over a temp copy stands for that.
func TestCatalogBareBusyBox(t *testing.T) {
	for _, arch := range []string{"arm", "mips"} {
		t.Run(arch, func(t *testing.T) {
			src := testcorpus.Shared(t, "real/busybox-1.31.0-"+arch)
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "busybox-1.31.0-"+arch), data, 0o755); err != nil {
				t.Fatal(err)
			}
			cs := catalog(t, analyzers.NewTarget([]*extract.Layer{layer(dir, "image", "image")}))
			if got := summary(cs); !slices.Equal(got, []string{"busybox 1.31.0"}) {
				t.Errorf("got %q", got)
			}
		})
	}
}

func BenchmarkCatalogWR841N(b *testing.B) {
	img := testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := extract.Extract(context.Background(), img, b.TempDir(), extract.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		// a fresh Target each time: the per-file cache would make later
		// iterations free
		cs, err := Catalog(context.Background(), analyzers.NewTarget(res.Layers), nil)
		if err != nil {
			b.Fatal(err)
		}
		n = len(cs)
	}
	b.ReportMetric(float64(n), "components")
}

// elfNeeding builds a minimal ELF64 file whose .dynamic section needs libs,
// followed by payload.
func elfNeeding(libs []string, payload string) []byte {
	le := binary.LittleEndian
	dynstr := []byte{0}
	var dyn []byte
	for _, l := range libs {
		dyn = le.AppendUint64(dyn, uint64(elf.DT_NEEDED))
		dyn = le.AppendUint64(dyn, uint64(len(dynstr)))
		dynstr = append(append(dynstr, l...), 0)
	}
	dyn = append(dyn, make([]byte, 16)...) // DT_NULL
	shstr := []byte("\x00.dynstr\x00.dynamic\x00.shstrtab\x00")
	off := 64
	dynstrOff, dynOff := off, off+len(dynstr)
	shstrOff := dynOff + len(dyn)
	shOff := shstrOff + len(shstr)
	shOff += (8 - shOff%8) % 8
	b := make([]byte, 64, shOff+4*64+len(payload))
	copy(b, "\x7fELF\x02\x01\x01")
	le.PutUint16(b[16:], uint16(elf.ET_DYN))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[40:], uint64(shOff))
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[58:], 64)
	le.PutUint16(b[60:], 4)
	le.PutUint16(b[62:], 3)
	b = append(append(append(b, dynstr...), dyn...), shstr...)
	b = append(b, make([]byte, shOff-len(b))...)
	sh := func(name, typ uint32, offset, size int, link uint32, entsize uint64) {
		var h [64]byte
		le.PutUint32(h[0:], name)
		le.PutUint32(h[4:], typ)
		le.PutUint64(h[24:], uint64(offset))
		le.PutUint64(h[32:], uint64(size))
		le.PutUint32(h[40:], link)
		le.PutUint64(h[48:], 1)
		le.PutUint64(h[56:], entsize)
		b = append(b, h[:]...)
	}
	sh(0, 0, 0, 0, 0, 0)
	sh(1, uint32(elf.SHT_STRTAB), dynstrOff, len(dynstr), 0, 0)
	sh(9, uint32(elf.SHT_DYNAMIC), dynOff, len(dyn), 1, 16)
	sh(18, uint32(elf.SHT_STRTAB), shstrOff, len(shstr), 0, 0)
	return append(b, payload...)
}

// TestCatalogLinkedCopy: a program that links libcrypto.so quotes the
// OpenSSL version it was built against; that is not a copy of OpenSSL (the
// library is reported where it is). libssl, which needs libcrypto, and a
// statically linked program still count.
func TestCatalogLinkedCopy(t *testing.T) {
	const text = "\x00OpenSSL 3.0.16 11 Feb 2025\x00"
	if got := dtNeeded(elfNeeding([]string{"libcrypto.so.3", "libc.so.6"}, "")); !slices.Equal(got, []string{"libcrypto.so.3", "libc.so.6"}) {
		t.Fatalf("dtNeeded = %q", got)
	}
	dir := testcorpus.Tree(t, map[string]string{
		"usr/sbin/hostapd":        string(elfNeeding([]string{"libcrypto.so.3", "libc.so.6"}, text)),
		"usr/lib/libssl.so.3":     string(elfNeeding([]string{"libcrypto.so.3"}, "\x00OpenSSL 3.0.19 27 Jan 2026\x00")),
		"usr/sbin/static-openssl": string(elfNeeding([]string{"libc.so.6"}, "\x00OpenSSL 1.0.2u  20 Dec 2019\x00")),
		"usr/sbin/corrupt":        elfHdr + "\x00OpenSSL 1.1.1w  11 Sep 2023\x00",
	})
	cs := catalog(t, analyzers.NewTarget([]*extract.Layer{layer(dir, "filesystem", "fs")}))
	want := []string{"openssl 1.0.2u", "openssl 1.1.1w", "openssl 3.0.19"}
	if got := summary(cs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzDtNeeded: hostile ELF headers must not panic or hang the DT_NEEDED
// reader.
func FuzzDtNeeded(f *testing.F) {
	f.Add(elfNeeding([]string{"libcrypto.so.3", "libc.so.6"}, ""))
	f.Add([]byte(elfHdr))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got := dtNeeded(data); got == nil {
			t.Fatal("nil result")
		}
	})
}

// A raw U-Boot at the start of a flash dump (not in a uImage) is listed,
// with its version from the banner, found in the extractor's boot loader
// layer.
func TestCatalogRawBootLoader(t *testing.T) {
	img := filepath.Join("..", "..", "testdata", "firmware", "flash-uboot2013.bin")
	res, err := extract.Extract(context.Background(), img, filepath.Join(t.TempDir(), "w"), extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := catalog(t, analyzers.NewTarget(res.Layers))
	c := find(cs, "u-boot", "2013.07")
	if c == nil {
		t.Fatalf("no u-boot 2013.07 in %q", summary(cs))
	}
	loc := c.Locations[0]
	if loc.Layer != "bootloader@0x0" || loc.Path != "/bootloader.bin" || loc.Offset != 0x4a11 ||
		loc.Evidence != "U-Boot 2013.07 (Oct 21 2014 - 14:35:02)" || !slices.Contains(c.CPEs, "cpe:2.3:a:denx:u-boot:2013.07:*:*:*:*:*:*:*") {
		t.Errorf("location %+v cpes %v", loc, c.CPEs)
	}
}

// TestCatalogBuiltOnce: the eol analyzer and the scan's components stage
// share one catalog per Target: a second call reads no file again, a
// caller changing its copy does not change the next caller's, and a
// catalog cut short by a cancelled context is built again for the next
// caller.
func TestCatalogBuiltOnce(t *testing.T) {
	dir := testcorpus.Tree(t, map[string]string{"bin/busybox": elfHdr + "\x00BusyBox v1.01 (x)\x00"})
	tg := analyzers.NewTarget([]*extract.Layer{layer(dir, "filesystem", "fs")})
	first := catalog(t, tg)
	if got := summary(first); !slices.Equal(got, []string{"busybox 1.01"}) {
		t.Fatalf("got %q", got)
	}
	// the file changes on disk: a second scan of it would find 1.02
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), []byte(elfHdr+"\x00BusyBox v1.02 (x)\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	first[0].Name = "changed by the first caller"
	if got := summary(catalog(t, tg)); !slices.Equal(got, []string{"busybox 1.01"}) {
		t.Errorf("second call: %q, want the shared catalog's busybox 1.01", got)
	}

	dir2 := testcorpus.Tree(t, map[string]string{"bin/busybox": elfHdr + "\x00BusyBox v1.01 (x)\x00"})
	tg2 := analyzers.NewTarget([]*extract.Layer{layer(dir2, "filesystem", "fs")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Catalog(ctx, tg2, nil); err == nil {
		t.Fatal("no error from a cancelled context")
	}
	if got := summary(catalog(t, tg2)); !slices.Equal(got, []string{"busybox 1.01"}) {
		t.Errorf("after a cancelled caller: %q, want busybox 1.01", got)
	}
}

// BenchmarkCatalogWR841NSecondCall: the catalog as the scan's components
// stage asks for it after the eol analyzer built it on the same Target.
func BenchmarkCatalogWR841NSecondCall(b *testing.B) {
	img := testcorpus.Shared(b, "real/tplink_wr841nv10_en_3_16_9_up_boot_150310.bin")
	res, err := extract.Extract(context.Background(), img, b.TempDir(), extract.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t := analyzers.NewTarget(res.Layers)
	if _, err := Catalog(context.Background(), t, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Catalog(context.Background(), t, nil); err != nil {
			b.Fatal(err)
		}
	}
}
