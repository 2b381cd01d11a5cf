package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"unicode/utf8"
)

// Carving inside the files of a file-system layer.
//
// A file of a zip, tar, cpio, SquashFS, ... is first of all a file of the
// device, so it is not carved like a raw flash dump: most are programs, text
// or pictures. But a vendor update zip whose member is a headerless firmware
// blob (an LZMA kernel at 0x21a8 and a SquashFS at 0xecef9, say) holds
// nothing at offset 0, and identifying only offset 0 would miss the whole
// firmware. So a member is carved like an image when
//
//   - its type is not known and final (ELF, text, pictures, fonts, ... are
//     never containers of firmware and are only identified at offset 0), and
//   - it is at least CarveMinSize bytes, and
//   - it fits the carving budget: at most CarveFileBytes for one file, and
//     CarveImageBytes for all members of one image together. A file beyond
//     either budget is identified at offset 0 only, and the first such file
//     is reported as a limit anomaly on its layer.
//
// A carved member where nothing was found gets no "opaque" layers: an
// unknown data file of a file system is not an unassessed part of the image.

// Carving defaults (used when the Limits fields are zero).
const (
	DefaultCarveMinSize    = 16 << 10
	DefaultCarveFileBytes  = 256 << 20
	DefaultCarveImageBytes = 1 << 30
)

// carveBudget is the per-image carving state.
type carveBudget struct {
	used      int64
	reported  bool // the per-image budget hit was reported
	minSize   int64
	fileBytes int64
	maxBytes  int64
}

func newCarveBudget(l Limits) *carveBudget {
	c := &carveBudget{minSize: l.CarveMinSize, fileBytes: l.CarveFileBytes, maxBytes: l.CarveImageBytes}
	if c.minSize <= 0 {
		c.minSize = DefaultCarveMinSize
	}
	if c.fileBytes <= 0 {
		c.fileBytes = DefaultCarveFileBytes
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultCarveImageBytes
	}
	return c
}

// carveDecision says how a file of a file-system layer is processed.
type carveDecision int

const (
	carveAnchored carveDecision = iota // identify at offset 0 only
	carveFull                          // carve the whole file like an image
)

// planMember decides whether the file (size bytes, first bytes hdr) of a
// file-system layer is carved, charges the budget, and records on l the
// anomaly of a budget that is hit.
func (c *carveBudget) planMember(l *Layer, source string, hdr, tail []byte, size int64) carveDecision {
	if size < c.minSize || finalType(hdr, tail) != "" {
		return carveAnchored
	}
	if size > c.fileBytes {
		l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
			Detail: fmt.Sprintf("not carved: %d bytes exceed the carving budget of %d bytes per file; identified at offset 0 only", size, c.fileBytes)})
		return carveAnchored
	}
	if c.used+size > c.maxBytes {
		if !c.reported {
			c.reported = true
			l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyLimit, Path: source,
				Detail: fmt.Sprintf("carving budget of %d bytes per image used up; this and later files are identified at offset 0 only", c.maxBytes)})
		}
		return carveAnchored
	}
	c.used += size
	return carveFull
}

// processMember unpacks one file of the file-system layer l.
func (e *engine) processMember(ctx context.Context, l *Layer, r io.ReaderAt, size int64, source string, depth int, pre *memberWork) {
	if e.carve == nil {
		e.carve = newCarveBudget(e.opt.Limits)
	}
	hdr, tail := readHeader(r, 0, size, 512), readHeader(r, max(size-512, 0), size, 512)
	if e.carve.planMember(l, source, hdr, tail, size) == carveAnchored {
		e.processBlob(ctx, l, r, size, source, depth, true, pre)
		return
	}
	n0, seq0 := len(e.layers), e.seq
	if e.processBlob(ctx, l, r, size, source, depth, false, pre) == 0 {
		// nothing found: drop the opaque-gap layers carving added for
		// this file, when they are all it added (the layers after n0
		// are then the last ones, so IDs stay in step).
		for _, x := range e.layers[n0:] {
			if x.Format != "opaque" {
				return
			}
		}
		e.layers, e.seq = e.layers[:n0], seq0
		return
	}
	e.bootRegion(ctx, l, source, r, size, n0)
}

// finalType names the type of a file whose type is known and final (it is
// never a container of firmware, so it is not carved), or "" when the file
// may hold anything. tail is the file's last bytes: a shell script with an
// archive appended (makeself installers) is not text.
func finalType(h, tail []byte) string {
	for _, t := range finalMagics {
		if len(h) >= t.off+len(t.magic) && bytes.Equal(h[t.off:t.off+len(t.magic)], t.magic) {
			return t.name
		}
	}
	if isText(h) && isText(tail) {
		return "text"
	}
	return ""
}

var finalMagics = []struct {
	name  string
	off   int
	magic []byte
}{
	{"elf", 0, []byte("\x7fELF")},
	{"png", 0, []byte("\x89PNG\r\n\x1a\n")},
	{"jpeg", 0, []byte{0xff, 0xd8, 0xff}},
	{"gif", 0, []byte("GIF87a")},
	{"gif", 0, []byte("GIF89a")},
	{"webp", 8, []byte("WEBP")},
	{"wav", 8, []byte("WAVE")},
	{"ico", 0, []byte{0, 0, 1, 0}},
	{"truetype", 0, []byte{0, 1, 0, 0, 0}},
	{"opentype", 0, []byte("OTTO")},
	{"woff", 0, []byte("wOFF")},
	{"woff2", 0, []byte("wOF2")},
	{"sqlite", 0, []byte("SQLite format 3\x00")},
	{"java-class", 0, []byte{0xca, 0xfe, 0xba, 0xbe}},
	{"dex", 0, []byte("dex\n")},
	{"pdf", 0, []byte("%PDF-")},
	{"mp3", 0, []byte("ID3")},
	{"terminfo", 0, []byte{0x1a, 0x01}},
	{"gettext", 0, []byte{0xde, 0x12, 0x04, 0x95}},
	{"gettext", 0, []byte{0x95, 0x04, 0x12, 0xde}},
}

// isText reports whether h looks like text: valid UTF-8 (allowing a rune cut
// at the end), no NUL, and almost no control characters other than
// whitespace.
func isText(h []byte) bool {
	if len(h) == 0 {
		return false
	}
	ctl := 0
	for i := 0; i < len(h); {
		c := h[i]
		if c == 0 {
			return false
		}
		if c < 0x80 {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b {
				ctl++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(h[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(h)-i < utf8.UTFMax && !utf8.FullRune(h[i:]) {
				break // a rune cut by the header's end
			}
			return false
		}
		i += n
	}
	return ctl*100 <= len(h)
}
