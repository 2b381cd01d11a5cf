package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// uimageFormat is U-Boot's legacy image (mkimage -T kernel/ramdisk/...):
// a 64-byte big-endian header protected by a CRC32, then the data with its
// own CRC32.
type uimageFormat struct{}

func init() { Register(uimageFormat{}) }

const uimageHeaderLen = 64

var uimageMagic = []byte{0x27, 0x05, 0x19, 0x56}

func (uimageFormat) Name() string    { return "uimage" }
func (uimageFormat) Kind() Kind      { return Container }
func (uimageFormat) Magics() []Magic { return []Magic{{0, uimageMagic}} }

// uimageHeader is the decoded legacy header.
type uimageHeader struct {
	HCRC, Time, Size, Load, Entry, DCRC uint32
	OS, Arch, Type, Comp                byte
	Name                                string
}

func parseUImage(h []byte) (uimageHeader, bool) {
	if len(h) < uimageHeaderLen || !bytes.Equal(h[:4], uimageMagic) {
		return uimageHeader{}, false
	}
	be := binary.BigEndian
	u := uimageHeader{
		HCRC: be.Uint32(h[4:]), Time: be.Uint32(h[8:]), Size: be.Uint32(h[12:]),
		Load: be.Uint32(h[16:]), Entry: be.Uint32(h[20:]), DCRC: be.Uint32(h[24:]),
		OS: h[28], Arch: h[29], Type: h[30], Comp: h[31],
	}
	name := h[32:64]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	u.Name = string(name)
	var tmp [uimageHeaderLen]byte
	copy(tmp[:], h[:uimageHeaderLen])
	binary.BigEndian.PutUint32(tmp[4:], 0)
	return u, crc32.ChecksumIEEE(tmp[:]) == u.HCRC
}

// Identify requires the header CRC to verify.
func (uimageFormat) Identify(h []byte) bool {
	u, ok := parseUImage(h)
	return ok && u.Type != 0
}

func (uimageFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	u, ok := parseUImage(readAtMost(r, 0, size, uimageHeaderLen))
	if !ok {
		return 0, ErrNotFormat
	}
	return uimageHeaderLen + int64(u.Size), nil
}

var uimageOS = map[byte]string{1: "openbsd", 2: "netbsd", 3: "freebsd", 4: "4_4bsd", 5: "linux", 6: "svr4",
	7: "esix", 8: "solaris", 9: "irix", 10: "sco", 11: "dell", 12: "ncr", 13: "lynxos", 14: "vxworks",
	15: "psos", 16: "qnx", 17: "u-boot", 18: "rtems", 19: "artos", 20: "unity", 21: "integrity", 22: "ose",
	23: "plan9", 24: "openrtos", 25: "arm-trusted-firmware", 26: "tee", 27: "opensbi", 28: "efi"}

var uimageArch = map[byte]string{1: "alpha", 2: "arm", 3: "x86", 4: "ia64", 5: "mips", 6: "mips64",
	7: "ppc", 8: "s390", 9: "sh", 10: "sparc", 11: "sparc64", 12: "m68k", 13: "nios", 14: "microblaze",
	15: "nios2", 16: "blackfin", 17: "avr32", 18: "st200", 19: "sandbox", 20: "nds32", 21: "openrisc",
	22: "arm64", 23: "arc", 24: "x86_64", 25: "xtensa", 26: "riscv"}

// uimageTypes maps the image type to the output file name.
var uimageTypes = map[byte]string{1: "standalone", 2: "kernel", 3: "ramdisk", 4: "multi", 5: "firmware",
	6: "script", 7: "filesystem", 8: "devicetree.dtb", 9: "kwbimage", 10: "imximage", 11: "ublimage",
	12: "omapimage", 13: "aisimage", 14: "kernel_noload", 15: "pblimage", 16: "mxsimage", 17: "gpimage",
	18: "atmelimage", 19: "socfpgaimage", 20: "x86_setup", 21: "lpc32xximage", 22: "loadables",
	23: "rkimage", 24: "rksd", 25: "rkspi", 26: "zynqimage", 27: "zynqmpimage", 28: "fpga"}

func lookupName(m map[byte]string, b byte) string {
	if s, ok := m[b]; ok {
		return s
	}
	return fmt.Sprintf("unknown(%d)", b)
}

// Describe is a one-line summary of a legacy uImage header, for reports.
func (u uimageHeader) Describe() string {
	comp := lookupName(uimageCodecTable(), u.Comp)
	if u.Comp == 0 {
		comp = "none"
	}
	return fmt.Sprintf("uImage %q: %s %s %s, %s, %d bytes, load 0x%08x, entry 0x%08x",
		u.Name, lookupName(uimageOS, u.OS), lookupName(uimageArch, u.Arch), strings.TrimSuffix(lookupName(uimageTypes, u.Type), ".dtb"),
		comp, u.Size, u.Load, u.Entry)
}

// DescribeUImage returns the header summary of the uImage at the start of
// hdr, or "" if it is not one.
func DescribeUImage(hdr []byte) string {
	u, ok := parseUImage(hdr)
	if !ok {
		return ""
	}
	return u.Describe()
}

const uimageMaxMulti = 64

func (uimageFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	u, ok := parseUImage(readAtMost(r, 0, size, uimageHeaderLen))
	if !ok {
		return 0, fmt.Errorf("%w: bad uImage header", ErrNotFormat)
	}
	end := uimageHeaderLen + int64(u.Size)
	avail := int64(u.Size)
	var truncErr error
	dataOK := false
	if end > size {
		avail = size - uimageHeaderLen
		end = size
		truncErr = fmt.Errorf("truncated: header says %d data bytes, %d present", u.Size, avail)
		w.Anomaly(AnomalyMalformed, "", truncErr.Error())
	} else if crc, err := crc32Range(ctx, r, uimageHeaderLen, avail); err != nil {
		return end, err
	} else if crc != u.DCRC {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("uImage data CRC32 mismatch: header 0x%08x, data 0x%08x", u.DCRC, crc))
	} else {
		dataOK = true
	}
	// a legacy uImage has no place for a signature: U-Boot checks the two
	// CRC32s, which anyone who changes the image can recompute
	w.SetProtection(Protection{Kind: ProtectionChecksum, Algorithms: []string{"crc32"}, Covers: "header and data", Verified: dataOK,
		Detail: fmt.Sprintf("legacy uImage %q: a CRC32 of the header (0x%08x) and of the data (0x%08x) only; the format has no signature", u.Name, u.HCRC, u.DCRC)})
	codec, known := uimageCodecTable()[u.Comp]
	if !known {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("unknown uImage compression %d; data written as is", u.Comp))
	}
	name := lookupName(uimageTypes, u.Type)
	if !strings.HasSuffix(name, ".dtb") && strings.ContainsAny(name, "()") {
		name = "data"
	}
	var err error
	if u.Type == 4 { // multi: a zero-terminated table of sizes, then the images, each padded to 4 bytes
		err = unpackUImageMulti(ctx, r, avail, codec, w)
	} else {
		err = writePayload(ctx, w, name, codec, r, uimageHeaderLen, avail)
	}
	if err == nil {
		err = truncErr
	}
	return end, err
}

func unpackUImageMulti(ctx context.Context, r io.ReaderAt, avail int64, codec string, w *Writer) error {
	var sizes []int64
	off := int64(uimageHeaderLen)
	limit := uimageHeaderLen + avail
	for {
		b := readAtMost(r, off, limit, 4)
		if len(b) < 4 {
			return fmt.Errorf("multi-file uImage: size table runs past the data")
		}
		off += 4
		n := binary.BigEndian.Uint32(b)
		if n == 0 {
			break
		}
		if len(sizes) == uimageMaxMulti {
			return fmt.Errorf("multi-file uImage: more than %d sub-images", uimageMaxMulti)
		}
		sizes = append(sizes, int64(n))
	}
	names := []string{"kernel", "ramdisk", "devicetree.dtb"}
	for i, n := range sizes {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := fmt.Sprintf("image-%d", i)
		if i < len(names) {
			name = names[i]
		}
		if off+n > limit {
			w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("sub-image %d (%d bytes) runs past the data", i, n))
			if off >= limit {
				return fmt.Errorf("multi-file uImage: sub-image %d starts past the data", i)
			}
			n = limit - off
		}
		c := codec
		if i > 0 {
			// only the kernel follows the header's compression; a ramdisk
			// or device tree carries its own (carving finds it).
			if sniffCodec(readAtMost(r, off, limit, 16)) != codec {
				c = ""
			}
		}
		if err := writePayload(ctx, w, name, c, r, off, n); err != nil {
			if IsLimit(err) {
				return err
			}
			if err != ErrRefused && !IsEntryLimit(err) {
				return err
			}
		}
		off += (n + 3) &^ 3
	}
	return nil
}
