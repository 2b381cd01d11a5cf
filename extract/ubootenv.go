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

// ubootEnvFormat is a U-Boot environment block: a little-endian CRC-32
// (zlib's) of the rest of the block, in the redundant form a flags byte,
// then "key=value\0" entries ending with an empty one, padded to the
// environment size (0xff or 0x00). The size is not stored: it is the one of
// the common sizes the CRC matches. Unpack writes uboot-env.txt, one
// key=value a line.
type ubootEnvFormat struct{}

func init() { Register(ubootEnvFormat{}) }

// UBootEnvFile is the name of the file Unpack writes.
const UBootEnvFile = "uboot-env.txt"

var ubootEnvSizes = []int64{0x400, 0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000, 0x40000}

// ubootEnvKeys are first keys seen in real environments (mkenvimage keeps
// the order of its input, saveenv sorts).
var ubootEnvKeys = []string{"bootcmd=", "bootargs=", "baudrate=", "bootdelay=", "ethaddr=", "ipaddr=",
	"arch=", "autoload=", "board=", "board_name=", "bootfile=", "ethact=", "fdtcontroladdr=", "loadaddr=", "serverip="}

const ubootEnvMaxVars = 1 << 16

func (ubootEnvFormat) Name() string { return "uboot-env" }
func (ubootEnvFormat) Kind() Kind   { return Filesystem }
func (ubootEnvFormat) Magics() []Magic {
	var out []Magic
	for _, k := range ubootEnvKeys {
		out = append(out, Magic{4, []byte(k)}, Magic{5, []byte(k)})
	}
	return out
}

// ubootEnvKeyOK says whether b starts with a plausible variable name and '='.
func ubootEnvKeyOK(b []byte) bool {
	for i, c := range b {
		switch {
		case c == '=':
			return i > 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
		if i >= 64 {
			return false
		}
	}
	return false
}

// Identify wants a plausible first variable: a name, '=', and a value
// ended by a NUL within the header. The CRC is checked by Bound and Unpack,
// which see the whole block.
func (ubootEnvFormat) Identify(h []byte) bool {
	if len(h) < 16 {
		return false
	}
	for _, off := range []int{4, 5} {
		if ubootEnvKeyOK(h[off:]) && bytes.IndexByte(h[off:], 0) > 0 {
			return true
		}
	}
	return false
}

// ubootEnvFind returns the environment size and the data offset (4, or 5
// for the redundant form) whose CRC matches.
func ubootEnvFind(r io.ReaderAt, size int64) (envSize int64, dataOff int, err error) {
	h := readHeader(r, 0, size, 8)
	if len(h) < 8 {
		return 0, 0, fmt.Errorf("%w: too short for a U-Boot environment", ErrNotFormat)
	}
	want := binary.LittleEndian.Uint32(h)
	sizes := ubootEnvSizes
	if size <= ubootEnvSizes[len(ubootEnvSizes)-1] && size >= 16 {
		sizes = append(append([]int64{}, sizes...), size) // a partition of its own
	}
	maxSize := min(size, ubootEnvSizes[len(ubootEnvSizes)-1])
	buf := readHeader(r, 0, size, int(maxSize))
	for _, off := range []int{4, 5} {
		if !ubootEnvKeyOK(buf[off:]) {
			continue
		}
		// one pass: the running CRC at each candidate size
		c := uint32(0)
		prev := int64(off)
		done := map[int64]bool{}
		for _, n := range ubootEnvSorted(sizes) {
			if n > int64(len(buf)) || n <= int64(off) || done[n] {
				continue
			}
			done[n] = true
			c = crc32.Update(c, crc32.IEEETable, buf[prev:n])
			prev = n
			if c == want {
				return n, off, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("%w: no environment size with a matching CRC", ErrNotFormat)
}

func ubootEnvSorted(s []int64) []int64 {
	out := append([]int64{}, s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (ubootEnvFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	n, _, err := ubootEnvFind(r, size)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ubootEnvEscape renders a value on one line: control characters and
// backslashes are escaped.
func ubootEnvEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (ubootEnvFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	n, off, err := ubootEnvFind(r, size)
	if err != nil {
		return 0, err
	}
	data := readHeader(r, 0, size, int(n))[off:]
	var out bytes.Buffer
	vars := 0
	for len(data) > 0 && data[0] != 0 {
		if vars++; vars > ubootEnvMaxVars {
			w.Anomaly(AnomalyLimit, UBootEnvFile, fmt.Sprintf("uboot-env: more than %d variables", ubootEnvMaxVars))
			break
		}
		if vars%1024 == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
		i := bytes.IndexByte(data, 0)
		if i < 0 {
			w.Anomaly(AnomalyMalformed, UBootEnvFile, "uboot-env: last variable not terminated")
			i = len(data)
		}
		kv := string(data[:i])
		data = data[min(i+1, len(data)):]
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !ubootEnvKeyOK([]byte(k+"=")) {
			w.Anomaly(AnomalyMalformed, UBootEnvFile, fmt.Sprintf("uboot-env: entry %q is no key=value", ubootEnvEscape(kv[:min(len(kv), 64)])))
			if !ok {
				continue
			}
		}
		out.WriteString(ubootEnvEscape(k) + "=" + ubootEnvEscape(v) + "\n")
	}
	if _, err := w.WriteFile(UBootEnvFile, 0o644, &out); err != nil {
		return n, err
	}
	return n, nil
}
