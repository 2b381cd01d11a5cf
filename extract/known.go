package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// knownFormat recognises a format fwaudit cannot unpack, so the report can
// say what the data is instead of "unknown".
type knownFormat struct {
	name     string
	magics   []Magic
	hdrLen   int64
	check    func(h []byte) bool
	reason   string
	describe func(h []byte) string
}

func (k knownFormat) Name() string    { return k.name }
func (k knownFormat) Kind() Kind      { return Container }
func (k knownFormat) Magics() []Magic { return k.magics }

func (k knownFormat) Identify(h []byte) bool {
	for _, m := range k.magics {
		if len(h) < m.Offset+len(m.Bytes) || !bytes.Equal(h[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) {
			return false
		}
	}
	return k.check == nil || k.check(h)
}

func (k knownFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

func (k knownFormat) Unpack(_ context.Context, r io.ReaderAt, size int64, _ *Writer) (int64, error) {
	msg := k.reason
	if k.describe != nil {
		if d := k.describe(readHeader(r, 0, size, HeaderSize)); d != "" {
			msg = d + "; " + msg
		}
	}
	n := k.hdrLen
	if n > size {
		n = size
	}
	return n, fmt.Errorf("%w: %s", ErrUnsupported, msg)
}

func init() {
	for _, k := range []knownFormat{
		{name: "7z", magics: []Magic{{0, []byte("7z\xbc\xaf\x27\x1c")}}, hdrLen: 32,
			reason: "7-Zip archive (no 7z reader yet)",
			describe: func(h []byte) string {
				if len(h) < 32 {
					return ""
				}
				next := binary.LittleEndian.Uint64(h[12:]) + binary.LittleEndian.Uint64(h[20:]) + 32
				return fmt.Sprintf("7-Zip %d.%d, %d bytes", h[6], h[7], next)
			}},
		{name: "qcow", magics: []Magic{{0, []byte("QFI\xfb")}}, hdrLen: 4,
			check:  func(h []byte) bool { v := binary.BigEndian.Uint32(h[4:]); return v >= 1 && v <= 3 },
			reason: "QEMU QCOW disk image",
			describe: func(h []byte) string {
				return fmt.Sprintf("QCOW version %d", binary.BigEndian.Uint32(h[4:]))
			}},
		{name: "matter-ota", magics: []Magic{{0, []byte{0x1e, 0xf1, 0xee, 0x1b}}}, hdrLen: 4,
			check:  func(h []byte) bool { return len(h) >= 16 && binary.LittleEndian.Uint32(h[12:]) < 1<<16 },
			reason: "Matter OTA image (TLV header + payload); its payload is carved as data"},
		{name: "ambarella", magics: []Magic{{4, []byte{0x8a, 0x32, 0xfc, 0x66}}}, hdrLen: 8,
			reason: "Ambarella ROMFS (camera SoC)"},
		{name: "dji", magics: []Magic{{0, []byte{0x78, 0x56, 0x34, 0x12}}, {12, []byte("DJI\x00")}}, hdrLen: 16,
			reason: "DJI firmware container (IM*H): encrypted modules, not supported"},
		{name: "dlink-mh01", magics: []Magic{{0, []byte("MH01")}}, hdrLen: 16,
			check:  func(h []byte) bool { return len(h) >= 20 && bytes.Equal(h[16:20], []byte("MH01")) },
			reason: "D-Link MH01 container (signed, often encrypted payloads)"},
		{name: "maxlinear", magics: []Magic{{0, []byte("VER2Intel_Unified_Image")}}, hdrLen: 24,
			reason: "MaxLinear/Intel Puma unified image"},
		{name: "xerox-dsk", magics: []Magic{{0, []byte("\x1bDSK1.0")}}, hdrLen: 8,
			reason: "Xerox .dsk firmware (base64-wrapped records)"},
		{name: "broadcom-sao", magics: []Magic{{0, []byte("SOBJ")}, {8, []byte("META")}}, hdrLen: 12,
			reason: "Broadcom SAO signed object"},
		{name: "draytek", magics: []Magic{{0, []byte("2RDH")}}, hdrLen: 4,
			reason: "DrayTek Vigor firmware container"},
	} {
		// a pointer: the engine keys candidates by format, and this struct
		// holds slices, which are not comparable
		Register(&k)
	}
}
