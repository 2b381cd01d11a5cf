package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"io"
)

// lzop: the lzop file format (one member of LZO1X blocks with Adler-32 or
// CRC-32 checksums), which the lzop command writes and Linux kernels and
// U-Boot use for LZO-compressed payloads (IH_COMP_LZO, FIT "lzo").
func init() {
	Register(Codec{Name: "lzop", Rank: 40,
		Magics: [][]byte{lzopMagic},
		Kernel: [][]byte{lzopMagic},
		UImage: 4, FIT: "lzo",
		Block:  streamBlock(newLzopReader),
		Stream: newLzopReader})
}

// lzopMagic starts an lzop file.
var lzopMagic = []byte{0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a}

const (
	lzopAdler32D = 0x0001
	lzopAdler32C = 0x0002
	lzopExtra    = 0x0040
	lzopCRC32D   = 0x0100
	lzopCRC32C   = 0x0200
	lzopFilter   = 0x0800
	lzopMaxBlock = 64 << 20
)

// lzopReader decodes the lzop file format (one member).
type lzopReader struct {
	r     io.Reader
	flags uint32
	buf   []byte
	src   []byte
	out   []byte
	dst   []byte // reused decode buffer
	err   error
	lzo   Block
}

func newLzopReader(r io.Reader) (io.ReadCloser, error) {
	z := &lzopReader{r: r, lzo: lzoBlock}
	if err := z.header(); err != nil {
		return nil, err
	}
	return z, nil
}

func (z *lzopReader) read(n int) ([]byte, error) {
	if cap(z.buf) < n {
		z.buf = make([]byte, n)
	}
	b := z.buf[:n]
	_, err := io.ReadFull(z.r, b)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

func (z *lzopReader) u32() (uint32, error) {
	b, err := z.read(4)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

func (z *lzopReader) header() error {
	b, err := z.read(9 + 4)
	if err != nil {
		return err
	}
	if !bytes.Equal(b[:9], lzopMagic) {
		return errors.New("lzop: bad magic")
	}
	version := binary.BigEndian.Uint16(b[9:])
	skip := 0
	if version >= 0x0940 {
		skip = 2 // version needed to extract
	}
	if _, err := z.read(skip); err != nil {
		return err
	}
	b, err = z.read(1)
	if err != nil {
		return err
	}
	if m := b[0]; m != 1 && m != 2 && m != 3 {
		return fmt.Errorf("lzop: unsupported method %d", m)
	}
	if version >= 0x0940 {
		if _, err := z.read(1); err != nil { // level
			return err
		}
	}
	if z.flags, err = z.u32(); err != nil {
		return err
	}
	n := 4 + 4 // mode, mtime low
	if z.flags&lzopFilter != 0 {
		n += 4
	}
	if version >= 0x0940 {
		n += 4 // mtime high
	}
	if _, err := z.read(n); err != nil {
		return err
	}
	b, err = z.read(1)
	if err != nil {
		return err
	}
	if _, err := z.read(int(b[0]) + 4); err != nil { // name + header checksum
		return err
	}
	if z.flags&lzopExtra != 0 {
		l, err := z.u32()
		if err != nil {
			return err
		}
		if l > 1<<20 {
			return errors.New("lzop: extra field too large")
		}
		if _, err := z.read(int(l) + 4); err != nil {
			return err
		}
	}
	return nil
}

func (z *lzopReader) Read(p []byte) (int, error) {
	for len(z.out) == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.err = z.block()
	}
	n := copy(p, z.out)
	z.out = z.out[n:]
	return n, nil
}

func (z *lzopReader) block() error {
	dlen, err := z.u32()
	if err != nil {
		return err
	}
	if dlen == 0 {
		return io.EOF
	}
	slen, err := z.u32()
	if err != nil {
		return err
	}
	if dlen > lzopMaxBlock || slen > dlen || slen == 0 {
		return fmt.Errorf("lzop: bad block sizes %d/%d", slen, dlen)
	}
	var dsum, csum uint32
	hasD := z.flags&(lzopAdler32D|lzopCRC32D) != 0
	hasC := slen < dlen && z.flags&(lzopAdler32C|lzopCRC32C) != 0
	if hasD {
		if dsum, err = z.u32(); err != nil {
			return err
		}
	}
	if hasC {
		if csum, err = z.u32(); err != nil {
			return err
		}
	}
	_ = csum
	if cap(z.src) < int(slen) {
		z.src = make([]byte, slen)
	}
	src := z.src[:slen]
	if _, err := io.ReadFull(z.r, src); err != nil {
		return io.ErrUnexpectedEOF
	}
	var out []byte
	if slen == dlen {
		out = src
	} else {
		out, err = z.lzo(z.dst[:0], src, int(dlen))
		if cap(out) > cap(z.dst) {
			z.dst = out[:0]
		}
		if err != nil {
			return fmt.Errorf("lzop: %v", err)
		}
		if len(out) != int(dlen) {
			return fmt.Errorf("lzop: block decoded to %d bytes, want %d", len(out), dlen)
		}
	}
	if hasD {
		var got uint32
		if z.flags&lzopAdler32D != 0 {
			got = adler32.Checksum(out)
		} else {
			got = crc32.ChecksumIEEE(out)
		}
		if got != dsum {
			return errors.New("lzop: block checksum mismatch")
		}
	}
	z.out = out
	return nil
}

func (z *lzopReader) Close() error { return nil }
