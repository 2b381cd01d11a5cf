package extract

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"
)

// tplinkFormat is the TP-Link firmware header (OpenWrt's mktplinkfw.c for
// v1, mktplinkfw2.c for v2/v3): a 0x200-byte big-endian header with an MD5
// and the offsets of the kernel, the root file system and, in "up_boot"
// images, the boot loader.
//
// v1 (version 0x01000000):
//
//	0x04 vendor[24] 0x1C fw_version[36] 0x40 hw_id 0x44 hw_rev 0x48 region
//	0x4C md5sum1[16] 0x5C unk2 0x60 md5sum2[16] 0x70 unk3
//	0x74 kernel_la 0x78 kernel_ep 0x7C fw_length 0x80 kernel_ofs
//	0x84 kernel_len 0x88 rootfs_ofs 0x8C rootfs_len 0x90 boot_ofs 0x94 boot_len
//
// v2/v3 (0x02000000, 0x03000000):
//
//	0x04 fw_version[48] 0x34 hw_id 0x38 hw_rev 0x3C hw_ver_add 0x40 md5sum1[16]
//	0x50 unk2 0x54 md5sum2[16] 0x64 unk3 0x68 kernel_la 0x6C kernel_ep
//	0x70 fw_length 0x74 kernel_ofs 0x78 kernel_len 0x7C rootfs_ofs
//	0x80 rootfs_len 0x84 boot_ofs 0x88 boot_len 0x8C 0x55AA ... 0x90 0xA5
//
// MD5: md5sum1 holds a salt (one for images with a boot loader, one
// without) while the MD5 of the whole image is computed; the digest then
// replaces the salt. An image with a boot loader ("up_boot") holds, after
// the 0x200-byte header, the boot loader (boot_len bytes) in a 64 KiB-aligned
// region, then a complete normal image (its own header, kernel, rootfs);
// the outer header's kernel and rootfs offsets are relative to that inner
// header.
type tplinkFormat struct{}

func init() { Register(tplinkFormat{}) }

const (
	tplinkHeaderLen = 0x200
	tplinkMaxLen    = 256 << 20
)

var (
	tplinkSaltV1Normal = []byte{0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdd, 0xf9, 0xe7, 0xf4, 0x0e, 0xae, 0x47, 0x38}
	tplinkSaltV1Boot   = []byte{0x8c, 0xef, 0x33, 0x5b, 0xd5, 0xc5, 0xce, 0xfa, 0xa7, 0x9c, 0x28, 0xda, 0xb2, 0xe9, 0x0f, 0x42}
	tplinkSaltV2Normal = []byte{0xdc, 0xd7, 0x3a, 0xa5, 0xc3, 0x95, 0x98, 0xfb, 0xdc, 0xf9, 0xe7, 0xf4, 0x0e, 0xae, 0x47, 0x37}
	tplinkSaltV2Boot   = []byte{0x8c, 0xef, 0x33, 0x5f, 0xd5, 0xc5, 0xce, 0xfa, 0xac, 0x9c, 0x28, 0xda, 0xb2, 0xe9, 0x0f, 0x42}
)

func (tplinkFormat) Name() string { return "tplink" }
func (tplinkFormat) Kind() Kind   { return Container }
func (tplinkFormat) Magics() []Magic {
	return []Magic{
		{0, []byte("\x01\x00\x00\x00TP-LINK")},
		{0, []byte("\x02\x00\x00\x00ver. ")},
		{0, []byte("\x03\x00\x00\x00ver. ")},
	}
}

type tplinkHeader struct {
	Version                   int
	Vendor, FwVersion         string
	HwID, HwRev               uint32
	MD5                       []byte
	KernelLA, KernelEP, FwLen uint32
	KernelOfs, KernelLen      uint32
	RootfsOfs, RootfsLen      uint32
	BootOfs, BootLen          uint32
	// Release is the firmware release from the v1 header's ver_hi,
	// ver_mid and ver_lo (0x98; "3.16.9"), empty when they are zero.
	Release string
	md5Off  int
}

// cstring returns the NUL-terminated printable string in b, and whether b
// is such a string followed only by NUL (or 0xFF) padding.
func cstring(b []byte) (string, bool) {
	n := bytes.IndexByte(b, 0)
	if n < 0 {
		n = len(b)
	}
	for _, c := range b[:n] {
		if c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	for _, c := range b[n:] {
		if c != 0 && c != 0xff {
			return "", false
		}
	}
	return string(b[:n]), true
}

func parseTPLink(h []byte) (tplinkHeader, bool) {
	var t tplinkHeader
	if len(h) < 0xa0 {
		return t, false
	}
	be := binary.BigEndian
	switch be.Uint32(h) {
	case 0x01000000:
		t.Version = 1
		var ok1, ok2 bool
		t.Vendor, ok1 = cstring(h[0x04:0x1c])
		t.FwVersion, ok2 = cstring(h[0x1c:0x40])
		if !ok1 || !ok2 || t.Vendor == "" {
			return t, false
		}
		t.HwID, t.HwRev = be.Uint32(h[0x40:]), be.Uint32(h[0x44:])
		t.md5Off = 0x4c
		f := h[0x74:]
		t.KernelLA, t.KernelEP, t.FwLen = be.Uint32(f), be.Uint32(f[4:]), be.Uint32(f[8:])
		t.KernelOfs, t.KernelLen = be.Uint32(f[12:]), be.Uint32(f[16:])
		t.RootfsOfs, t.RootfsLen = be.Uint32(f[20:]), be.Uint32(f[24:])
		t.BootOfs, t.BootLen = be.Uint32(f[28:]), be.Uint32(f[32:])
		if hi, mid, lo := be.Uint16(h[0x98:]), be.Uint16(h[0x9a:]), be.Uint16(h[0x9c:]); hi|mid|lo != 0 {
			t.Release = fmt.Sprintf("%d.%d.%d", hi, mid, lo)
		}
	case 0x02000000, 0x03000000:
		t.Version = int(h[0])
		var ok bool
		t.FwVersion, ok = cstring(h[0x04:0x34])
		if !ok || t.FwVersion == "" || be.Uint16(h[0x8c:]) != 0x55aa {
			return t, false
		}
		t.HwID, t.HwRev = be.Uint32(h[0x34:]), be.Uint32(h[0x38:])
		t.md5Off = 0x40
		f := h[0x68:]
		t.KernelLA, t.KernelEP, t.FwLen = be.Uint32(f), be.Uint32(f[4:]), be.Uint32(f[8:])
		t.KernelOfs, t.KernelLen = be.Uint32(f[12:]), be.Uint32(f[16:])
		t.RootfsOfs, t.RootfsLen = be.Uint32(f[20:]), be.Uint32(f[24:])
		t.BootOfs, t.BootLen = be.Uint32(f[28:]), be.Uint32(f[32:])
	default:
		return t, false
	}
	t.MD5 = h[t.md5Off : t.md5Off+16]
	for _, v := range []uint32{t.FwLen, t.KernelOfs, t.KernelLen, t.RootfsOfs, t.RootfsLen, t.BootOfs, t.BootLen} {
		if v > tplinkMaxLen {
			return t, false
		}
	}
	if t.KernelLen == 0 || t.KernelOfs < tplinkHeaderLen || t.FwLen < tplinkHeaderLen {
		return t, false
	}
	if t.RootfsLen > 0 && t.RootfsOfs < t.KernelOfs {
		return t, false
	}
	return t, true
}

func (t tplinkHeader) salt() []byte {
	switch {
	case t.Version == 1 && t.BootLen == 0:
		return tplinkSaltV1Normal
	case t.Version == 1:
		return tplinkSaltV1Boot
	case t.BootLen == 0:
		return tplinkSaltV2Normal
	default:
		return tplinkSaltV2Boot
	}
}

func (tplinkFormat) Identify(h []byte) bool {
	_, ok := parseTPLink(h)
	return ok
}

// tplinkLayout is where the parts of an image are.
type tplinkLayout struct {
	hdr       tplinkHeader
	base      int64 // where the header the offsets are relative to starts
	inner     *tplinkHeader
	bootOff   int64
	end       int64 // the image's length
	partsEnd  int64
	truncated bool
}

func tplinkLocate(r io.ReaderAt, size int64) (tplinkLayout, error) {
	t, ok := parseTPLink(readAtMost(r, 0, size, tplinkHeaderLen))
	if !ok {
		return tplinkLayout{}, fmt.Errorf("%w: bad TP-Link header", ErrNotFormat)
	}
	l := tplinkLayout{hdr: t}
	bootEnd := int64(0)
	if t.BootLen > 0 {
		l.bootOff = tplinkHeaderLen + int64(t.BootOfs)
		bootEnd = l.bootOff + int64(t.BootLen)
		// the inner image's header sits on a 64 KiB boundary after the
		// boot loader (0x20200 in every known image).
		for off := tplinkHeaderLen + (int64(t.BootLen)+0xffff)&^0xffff; off <= tplinkHeaderLen+0x100000 && off < size; off += 0x10000 {
			if in, ok := parseTPLink(readAtMost(r, off, size, tplinkHeaderLen)); ok && in.Version == t.Version {
				l.base, l.inner = off, &in
				break
			}
		}
	}
	l.partsEnd = max(bootEnd, l.base+int64(t.KernelOfs)+int64(t.KernelLen), l.base+int64(t.RootfsOfs)+int64(t.RootfsLen))
	if l.inner != nil {
		in := l.inner
		l.partsEnd = max(l.partsEnd, l.base+int64(in.KernelOfs)+int64(in.KernelLen), l.base+int64(in.RootfsOfs)+int64(in.RootfsLen))
	}
	l.end = l.partsEnd
	if fl := int64(t.FwLen); fl > l.end && fl <= size {
		l.end = fl
	}
	if l.end > size {
		l.end, l.truncated = size, true
	}
	return l, nil
}

func (tplinkFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	l, err := tplinkLocate(r, size)
	if err != nil {
		return 0, err
	}
	return l.end, nil
}

// tplinkMD5OK checks the salted MD5 of the header at off over n bytes.
func tplinkMD5OK(ctx context.Context, r io.ReaderAt, off, n int64, t tplinkHeader) (bool, error) {
	hdr := readAtMost(r, off, off+n, tplinkHeaderLen)
	if len(hdr) < tplinkHeaderLen {
		return false, nil
	}
	copy(hdr[t.md5Off:], t.salt())
	h := md5.New()
	h.Write(hdr)
	if _, err := io.CopyBuffer(h, ctxReader{ctx, io.NewSectionReader(r, off+tplinkHeaderLen, n-tplinkHeaderLen)}, make([]byte, 256<<10)); err != nil {
		return false, err
	}
	return bytes.Equal(h.Sum(nil), t.MD5), nil
}

// tplinkCheckMD5 verifies an image's MD5 over its candidate lengths (the
// file as mktplinkfw writes it may be stripped of padding, so fw_length is
// not always its size) and records an anomaly when none matches.
func tplinkCheckMD5(ctx context.Context, r io.ReaderAt, size, off int64, t tplinkHeader, lengths []int64, w *Writer, what string) (bool, error) {
	if t.Version == 3 {
		return false, nil // v3 images are RSA-signed; md5sum1 is not a plain salted MD5
	}
	tried := map[int64]bool{}
	for _, n := range lengths {
		if n < tplinkHeaderLen || off+n > size || tried[n] {
			continue
		}
		tried[n] = true
		ok, err := tplinkMD5OK(ctx, r, off, n, t)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("TP-Link %s MD5 does not verify (header %x)", what, t.MD5))
	return false, nil
}

// tplinkRecord records what the header says about the image (vendor,
// model and hardware revision from hw_id, release) and how it is
// protected: v1 and v2 headers carry an MD5 over the whole image, keyed
// only with a salt published in OpenWrt's mktplinkfw.c, so anyone who
// changes the image can recompute it; v3 headers carry an RSA signature in
// its place (TP-Link's own key; fwaudit cannot verify it).
func tplinkRecord(w *Writer, t tplinkHeader, verified bool) {
	vendor := t.Vendor
	if vendor == "" {
		vendor = "TP-Link"
	}
	// hw_id: the model number in its upper half and the hardware version in
	// its lower half, as hex digits read as decimal (0x08410010: 841 v10,
	// 0x30200001: 3020 v1), as in mktplinkfw's board table.
	product := fmt.Sprintf("%x v%x", t.HwID>>16, t.HwID&0xffff)
	w.SetIdentity(Identity{Vendor: vendor, Product: product, Version: t.Release,
		Hardware: fmt.Sprintf("hw_id 0x%08x rev %d", t.HwID, t.HwRev)})
	if t.Version == 3 {
		w.SetProtection(Protection{Kind: ProtectionSignature, Algorithms: []string{"rsa"}, Covers: "whole image",
			Detail: fmt.Sprintf("TP-Link v3 header: the field at 0x%x holds an RSA signature over the image (not verified: the vendor's public key is not in the image)", t.md5Off)})
		return
	}
	state := "does not match"
	if verified {
		state = "matches"
	}
	w.SetProtection(Protection{Kind: ProtectionChecksum, Algorithms: []string{"md5"}, Covers: "whole image", Verified: verified,
		Detail: fmt.Sprintf("TP-Link v%d header: md5sum1 at 0x%x is an MD5 over the whole image salted with a fixed value published in OpenWrt's mktplinkfw.c (it %s); anyone who changes the image can recompute it, and no signature is present", t.Version, t.md5Off, state)})
}

func (tplinkFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	l, err := tplinkLocate(r, size)
	if err != nil {
		return 0, err
	}
	t := l.hdr
	if l.truncated {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("TP-Link image truncated: %d bytes present, parts end at 0x%x; MD5 not checked", size, l.partsEnd))
		tplinkRecord(w, t, false)
	} else if ok, err := tplinkCheckMD5(ctx, r, size, 0, t, []int64{int64(t.FwLen), l.end, l.partsEnd}, w, "image"); err != nil {
		return l.end, err
	} else {
		tplinkRecord(w, t, ok)
	}
	if l.inner != nil && !l.truncated {
		in := *l.inner
		innerEnd := int64(in.RootfsOfs) + int64(in.RootfsLen)
		if _, err := tplinkCheckMD5(ctx, r, size, l.base, in, []int64{int64(in.FwLen), l.end - l.base, innerEnd}, w, "inner image"); err != nil {
			return l.end, err
		}
	} else if l.inner == nil && t.BootLen > 0 {
		w.Anomaly(AnomalyMalformed, "", "TP-Link image with a boot loader but no inner firmware header; offsets taken from the outer header")
	}
	var errs []error
	part := func(name string, off, n int64) {
		if n == 0 {
			return
		}
		if off >= l.end {
			errs = append(errs, fmt.Errorf("%s at 0x%x is past the end of the image (0x%x)", name, off, l.end))
			return
		}
		if off+n > l.end {
			errs = append(errs, fmt.Errorf("%s truncated: %d of %d bytes present", name, l.end-off, n))
			n = l.end - off
		}
		if err := writeRaw(w, name, r, off, n); err != nil {
			errs = append(errs, err)
		}
	}
	if t.BootLen > 0 {
		part("boot.bin", l.bootOff, int64(t.BootLen))
	}
	k, kl, rf, rl := t.KernelOfs, t.KernelLen, t.RootfsOfs, t.RootfsLen
	if l.inner != nil {
		k, kl, rf, rl = l.inner.KernelOfs, l.inner.KernelLen, l.inner.RootfsOfs, l.inner.RootfsLen
	}
	part("kernel.bin", l.base+int64(k), int64(kl))
	if rl > 0 {
		part("rootfs.bin", l.base+int64(rf), int64(rl))
	}
	for _, e := range errs {
		if IsLimit(e) {
			return l.end, e
		}
	}
	if len(errs) > 0 {
		return l.end, errs[0]
	}
	return l.end, nil
}

// TPLinkInfo reads a TP-Link firmware header (the first 0x200 bytes of the
// image): the vendor string (v1 only), the firmware version string and the
// hardware id and revision, which name the product (0x08410010 is the
// TL-WR841N v10). ok is false when h is not such a header.
func TPLinkInfo(h []byte) (vendor, fwVersion string, hwID, hwRev uint32, ok bool) {
	t, ok := parseTPLink(h)
	if !ok {
		return "", "", 0, 0, false
	}
	return t.Vendor, t.FwVersion, t.HwID, t.HwRev, true
}
