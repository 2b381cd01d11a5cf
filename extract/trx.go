package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// trxFormat is Broadcom's TRX container (v1: 3 partition offsets, v2: 4),
// little-endian:
//
//	0x00 "HDR0"  0x04 len (whole image incl. header)  0x08 crc32 over [12, len)
//	0x0C flags (bits 0-15) | version << 16   0x10 offsets[3 or 4]
//
// The CRC is the standard CRC-32 without the final inversion.
type trxFormat struct{}

func init() { Register(trxFormat{}) }

// trxMaxLen bounds the len field; TRX images live in NOR/NAND flash.
const trxMaxLen = 256 << 20

func (trxFormat) Name() string    { return "trx" }
func (trxFormat) Kind() Kind      { return Container }
func (trxFormat) Magics() []Magic { return []Magic{{0, []byte("HDR0")}} }

type trxHeader struct {
	Len, CRC uint32
	Flags    uint16
	Version  uint16
	HdrLen   uint32
	Offsets  []uint32 // non-zero partition offsets, increasing
}

func parseTRX(h []byte) (trxHeader, bool) {
	if len(h) < 28 || string(h[:4]) != "HDR0" {
		return trxHeader{}, false
	}
	le := binary.LittleEndian
	t := trxHeader{Len: le.Uint32(h[4:]), CRC: le.Uint32(h[8:])}
	fv := le.Uint32(h[12:])
	t.Flags, t.Version = uint16(fv), uint16(fv>>16)
	n := 3
	switch t.Version {
	case 1:
	case 2:
		n = 4
		if len(h) < 32 {
			return trxHeader{}, false
		}
	default:
		return trxHeader{}, false
	}
	t.HdrLen = uint32(16 + 4*n)
	if t.Len < t.HdrLen || t.Len > trxMaxLen {
		return trxHeader{}, false
	}
	prev := uint32(0)
	zero := false
	for i := 0; i < n; i++ {
		o := le.Uint32(h[16+4*i:])
		if o == 0 {
			zero = true
			continue
		}
		// offsets are increasing, inside the image, after the header,
		// and a zero one ends the list.
		if zero || o < t.HdrLen || o >= t.Len || o <= prev {
			return trxHeader{}, false
		}
		prev = o
		t.Offsets = append(t.Offsets, o)
	}
	if len(t.Offsets) == 0 {
		return trxHeader{}, false
	}
	return t, true
}

func (trxFormat) Identify(h []byte) bool {
	_, ok := parseTRX(h)
	return ok
}

func (trxFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	t, ok := parseTRX(readAtMost(r, 0, size, 32))
	if !ok {
		return 0, ErrNotFormat
	}
	return int64(t.Len), nil
}

func (trxFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	t, ok := parseTRX(readAtMost(r, 0, size, 32))
	if !ok {
		return 0, fmt.Errorf("%w: bad TRX header", ErrNotFormat)
	}
	end := int64(t.Len)
	var truncErr error
	crcOK := false
	defer func() {
		// TRX has no place for a signature: the boot loader checks one CRC32
		w.SetProtection(Protection{Kind: ProtectionChecksum, Algorithms: []string{"crc32"}, Covers: "whole image after the CRC field", Verified: crcOK,
			Detail: fmt.Sprintf("TRX header: a CRC32 (0x%08x) over the image only; the format has no signature", t.CRC)})
	}()
	if end > size {
		truncErr = fmt.Errorf("truncated: header says %d bytes, %d present", t.Len, size)
		w.Anomaly(AnomalyMalformed, "", truncErr.Error())
		end = size
	} else {
		h := crc32.NewIEEE()
		if _, err := io.CopyBuffer(h, ctxReader{ctx, io.NewSectionReader(r, 12, end-12)}, make([]byte, 256<<10)); err != nil {
			return end, err
		}
		// the TRX CRC is the raw register: no final inversion.
		if crc := h.Sum32() ^ 0xffffffff; crc != t.CRC {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("TRX CRC32 mismatch: header 0x%08x, data 0x%08x", t.CRC, crc))
		} else {
			crcOK = true
		}
	}
	for i, o := range t.Offsets {
		if int64(o) >= end {
			break
		}
		pend := end
		if i+1 < len(t.Offsets) && int64(t.Offsets[i+1]) < end {
			pend = int64(t.Offsets[i+1])
		}
		if err := writeRaw(w, fmt.Sprintf("part%d.bin", i), r, int64(o), pend-int64(o)); err != nil {
			return end, err
		}
	}
	return end, truncErr
}
