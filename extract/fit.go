package extract

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sort"
	"strings"
)

// Flattened device trees (devicetree specification, "DTB"): U-Boot FIT
// images are device trees with an /images node whose sub-nodes hold the
// payloads (property "data", or external data after the tree located by
// "data-offset"/"data-position" and "data-size"). Two formats share the
// magic 0xd00dfeed:
//
//   - fit: a tree with /images; every image is written as images/<name>,
//     decompressed per its "compression" property (flat_dt images as
//     images/<name>.dtb), and its hash nodes are checked.
//   - dtb: any other valid tree (a board's device tree, one appended to a
//     kernel); written as devicetree.dts, a source-like text rendering.
//     (A binary copy would be identified again, endlessly; the text keeps
//     every property, so analyzers can read model, bootargs and the like.)
//
// Each returns ErrNotFormat for the other's trees, so carving tries both.
// The structure block is parsed here, bounded in depth, node and property
// count, and string sizes; large property values are never read into
// memory.

type fitFormat struct{}
type dtbFormat struct{}

func init() {
	Register(fitFormat{})
	Register(dtbFormat{})
}

var fdtMagic = []byte{0xd0, 0x0d, 0xfe, 0xed}

const (
	fdtHeaderLen   = 40
	fdtMaxTotal    = 1 << 30
	fdtMaxDepth    = 32
	fdtMaxNodes    = 10000
	fdtMaxProps    = 100000
	fdtMaxStrings  = 4 << 20
	fdtMaxName     = 1024
	fdtInlineValue = 4096 // property values up to this size are kept in memory

	fdtBeginNode = 1
	fdtEndNode   = 2
	fdtProp      = 3
	fdtNop       = 4
	fdtEnd       = 9
)

func (fitFormat) Name() string    { return "fit" }
func (fitFormat) Kind() Kind      { return Container }
func (fitFormat) Magics() []Magic { return []Magic{{0, fdtMagic}} }
func (dtbFormat) Name() string    { return "dtb" }
func (dtbFormat) Kind() Kind      { return Container }
func (dtbFormat) Magics() []Magic { return []Magic{{0, fdtMagic}} }

type fdtHeader struct {
	TotalSize, OffStruct, OffStrings, OffRsvmap, Version, LastComp uint32
	SizeStrings, SizeStruct                                        uint32
}

func parseFDTHeader(h []byte) (fdtHeader, bool) {
	if len(h) < fdtHeaderLen || !bytes.Equal(h[:4], fdtMagic) {
		return fdtHeader{}, false
	}
	be := binary.BigEndian
	f := fdtHeader{TotalSize: be.Uint32(h[4:]), OffStruct: be.Uint32(h[8:]), OffStrings: be.Uint32(h[12:]),
		OffRsvmap: be.Uint32(h[16:]), Version: be.Uint32(h[20:]), LastComp: be.Uint32(h[24:]),
		SizeStrings: be.Uint32(h[32:]), SizeStruct: be.Uint32(h[36:])}
	t := f.TotalSize
	switch {
	case t < fdtHeaderLen+16 || t > fdtMaxTotal:
		return f, false
	case f.Version < 16 || f.Version > 17 || f.LastComp > 16 || f.LastComp < 2:
		return f, false
	case f.OffStruct < fdtHeaderLen || f.OffStruct >= t || f.OffStruct%4 != 0:
		return f, false
	case f.OffRsvmap < fdtHeaderLen || f.OffRsvmap >= t || f.OffRsvmap%8 != 0:
		return f, false
	case f.OffStrings < fdtHeaderLen || f.OffStrings > t || uint64(f.OffStrings)+uint64(f.SizeStrings) > uint64(t):
		return f, false
	}
	if f.Version >= 17 {
		if f.SizeStruct < 8 || uint64(f.OffStruct)+uint64(f.SizeStruct) > uint64(t) {
			return f, false
		}
	} else {
		f.SizeStruct = t - f.OffStruct
	}
	return f, true
}

func (fitFormat) Identify(h []byte) bool { _, ok := parseFDTHeader(h); return ok }
func (dtbFormat) Identify(h []byte) bool { _, ok := parseFDTHeader(h); return ok }

// fdtProperty is one property: its value in memory (small ones) and its
// place in the image.
type fdtProperty struct {
	Name  string
	Off   int64 // of the value, from the tree's start
	Len   int64
	Value []byte // nil when Len > fdtInlineValue
}

type fdtNode struct {
	Name     string
	Props    []fdtProperty
	Children []*fdtNode
}

func (n *fdtNode) prop(name string) *fdtProperty {
	for i := range n.Props {
		if n.Props[i].Name == name {
			return &n.Props[i]
		}
	}
	return nil
}

func (n *fdtNode) child(name string) *fdtNode {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (n *fdtNode) str(name string) string {
	p := n.prop(name)
	if p == nil || p.Value == nil {
		return ""
	}
	return strings.TrimRight(string(p.Value), "\x00")
}

func (n *fdtNode) u32(name string) (uint32, bool) {
	p := n.prop(name)
	if p == nil || len(p.Value) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(p.Value), true
}

// parseFDT parses the tree at the start of r.
func parseFDT(ctx context.Context, r io.ReaderAt, size int64) (fdtHeader, *fdtNode, error) {
	h, ok := parseFDTHeader(readAtMost(r, 0, size, fdtHeaderLen))
	if !ok {
		return h, nil, fmt.Errorf("%w: bad device tree header", ErrNotFormat)
	}
	if int64(h.TotalSize) > size {
		return h, nil, fmt.Errorf("%w: device tree truncated: %d of %d bytes present", ErrNotFormat, size, h.TotalSize)
	}
	strEnd := int64(h.TotalSize)
	if h.Version >= 17 || h.SizeStrings > 0 {
		strEnd = int64(h.OffStrings) + int64(h.SizeStrings)
	}
	if strEnd-int64(h.OffStrings) > fdtMaxStrings {
		return h, nil, fmt.Errorf("%w: strings block of %d bytes", ErrNotFormat, strEnd-int64(h.OffStrings))
	}
	strs := readAtMost(r, int64(h.OffStrings), strEnd, strEnd-int64(h.OffStrings))
	p := &fdtParser{
		br:   bufio.NewReaderSize(io.NewSectionReader(r, int64(h.OffStruct), int64(h.SizeStruct)), 64<<10),
		pos:  int64(h.OffStruct),
		end:  int64(h.OffStruct) + int64(h.SizeStruct),
		strs: strs,
	}
	root, err := p.parse(ctx)
	if err != nil {
		return h, nil, fmt.Errorf("%w: %v", ErrNotFormat, err)
	}
	return h, root, nil
}

type fdtParser struct {
	br          *bufio.Reader
	pos, end    int64
	strs        []byte
	nodes, prop int
}

func (p *fdtParser) u32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(p.br, b[:]); err != nil {
		return 0, errors.New("structure block truncated")
	}
	p.pos += 4
	return binary.BigEndian.Uint32(b[:]), nil
}

func (p *fdtParser) skip(n int64) error {
	if n < 0 || p.pos+n > p.end {
		return errors.New("structure block truncated")
	}
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := p.br.Discard(k)
		p.pos += int64(d)
		n -= int64(d)
		if err != nil {
			return errors.New("structure block truncated")
		}
	}
	return nil
}

func (p *fdtParser) nodeName() (string, error) {
	var b []byte
	for {
		c, err := p.br.ReadByte()
		if err != nil {
			return "", errors.New("structure block truncated in a node name")
		}
		p.pos++
		if c == 0 {
			break
		}
		if len(b) >= fdtMaxName {
			return "", errors.New("node name too long")
		}
		b = append(b, c)
	}
	if pad := (4 - p.pos%4) % 4; pad > 0 {
		if err := p.skip(pad); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

func (p *fdtParser) propName(off uint32) (string, error) {
	if int(off) >= len(p.strs) {
		return "", errors.New("property name outside the strings block")
	}
	s := p.strs[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 || i > fdtMaxName {
		return "", errors.New("bad property name")
	}
	return string(s[:i]), nil
}

func (p *fdtParser) parse(ctx context.Context) (*fdtNode, error) {
	var stack []*fdtNode
	var root *fdtNode
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		tok, err := p.u32()
		if err != nil {
			return nil, err
		}
		switch tok {
		case fdtBeginNode:
			name, err := p.nodeName()
			if err != nil {
				return nil, err
			}
			if p.nodes++; p.nodes > fdtMaxNodes {
				return nil, fmt.Errorf("more than %d nodes", fdtMaxNodes)
			}
			if len(stack) >= fdtMaxDepth {
				return nil, fmt.Errorf("nodes nested deeper than %d", fdtMaxDepth)
			}
			n := &fdtNode{Name: name}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root node")
				}
				root = n
			} else {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, n)
			}
			stack = append(stack, n)
		case fdtEndNode:
			if len(stack) == 0 {
				return nil, errors.New("unbalanced end of node")
			}
			stack = stack[:len(stack)-1]
		case fdtProp:
			if len(stack) == 0 {
				return nil, errors.New("property outside any node")
			}
			l, err := p.u32()
			if err != nil {
				return nil, err
			}
			no, err := p.u32()
			if err != nil {
				return nil, err
			}
			if p.prop++; p.prop > fdtMaxProps {
				return nil, fmt.Errorf("more than %d properties", fdtMaxProps)
			}
			name, err := p.propName(no)
			if err != nil {
				return nil, err
			}
			if p.pos+int64(l) > p.end {
				return nil, fmt.Errorf("property %s (%d bytes) runs past the structure block", name, l)
			}
			pr := fdtProperty{Name: name, Off: p.pos, Len: int64(l)}
			if l <= fdtInlineValue {
				pr.Value = make([]byte, l)
				if _, err := io.ReadFull(p.br, pr.Value); err != nil {
					return nil, errors.New("structure block truncated")
				}
				p.pos += int64(l)
			} else if err := p.skip(int64(l)); err != nil {
				return nil, err
			}
			if pad := (4 - p.pos%4) % 4; pad > 0 {
				if err := p.skip(pad); err != nil {
					return nil, err
				}
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, pr)
		case fdtNop:
		case fdtEnd:
			if root == nil || len(stack) != 0 {
				return nil, errors.New("structure block ends inside a node")
			}
			return root, nil
		default:
			return nil, fmt.Errorf("unknown structure token 0x%x", tok)
		}
	}
}

// fitImage is one payload of a FIT.
type fitImage struct {
	node     *fdtNode
	name     string
	off, len int64
	err      error
}

// fitImages lists the images of the FIT tree and where their data is.
func fitImages(h fdtHeader, root *fdtNode) []fitImage {
	imgs := root.child("images")
	if imgs == nil {
		return nil
	}
	var out []fitImage
	extBase := (int64(h.TotalSize) + 3) &^ 3
	for _, n := range imgs.Children {
		im := fitImage{node: n, name: n.Name}
		if p := n.prop("data"); p != nil {
			im.off, im.len = p.Off, p.Len
		} else if sz, ok := n.u32("data-size"); ok {
			im.len = int64(sz)
			if pos, ok := n.u32("data-position"); ok {
				im.off = int64(pos)
			} else if o, ok := n.u32("data-offset"); ok {
				im.off = extBase + int64(o)
			} else {
				im.err = errors.New("data-size without data-offset or data-position")
			}
		} else {
			im.err = errors.New("no data")
		}
		out = append(out, im)
	}
	return out
}

// fitEnd is the end of the FIT: the tree plus any external data.
func fitEnd(h fdtHeader, root *fdtNode) int64 {
	end := int64(h.TotalSize)
	for _, im := range fitImages(h, root) {
		if im.err == nil && im.off+im.len > end {
			end = im.off + im.len
		}
	}
	return end
}

func (fitFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	h, root, err := parseFDT(context.Background(), r, size)
	if err != nil {
		return 0, err
	}
	return fitEnd(h, root), nil
}

func (dtbFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	h, ok := parseFDTHeader(readAtMost(r, 0, size, fdtHeaderLen))
	if !ok {
		return 0, ErrNotFormat
	}
	return int64(h.TotalSize), nil
}

func (dtbFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	h, root, err := parseFDT(ctx, r, size)
	if err != nil {
		return 0, err
	}
	if root.child("images") != nil {
		return 0, fmt.Errorf("%w: a FIT image", ErrNotFormat)
	}
	var b strings.Builder
	b.WriteString("/dts-v1/;\n")
	writeDTS(&b, root, 0)
	_, err = w.WriteFile("devicetree.dts", 0o644, strings.NewReader(b.String()))
	return int64(h.TotalSize), err
}

// dtsMaxText bounds the text rendering of one device tree.
const dtsMaxText = 16 << 20

// writeDTS renders the tree as device tree source (what dtc -O dts prints,
// near enough): strings, cells or bytes per property. Values too large to
// be kept in memory are noted by size.
func writeDTS(b *strings.Builder, n *fdtNode, depth int) {
	if b.Len() > dtsMaxText {
		return
	}
	ind := strings.Repeat("\t", depth)
	name := n.Name
	if depth == 0 {
		name = "/"
	}
	fmt.Fprintf(b, "%s%s {\n", ind, name)
	for _, p := range n.Props {
		fmt.Fprintf(b, "%s\t%s", ind, p.Name)
		switch {
		case p.Len == 0:
		case p.Value == nil:
			fmt.Fprintf(b, " = /* %d bytes */", p.Len)
		case dtsStrings(p.Value) != nil:
			b.WriteString(" = ")
			for i, s := range dtsStrings(p.Value) {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "%q", s)
			}
		case len(p.Value)%4 == 0:
			b.WriteString(" = <")
			for i := 0; i < len(p.Value); i += 4 {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(b, "0x%x", binary.BigEndian.Uint32(p.Value[i:]))
			}
			b.WriteString(">")
		default:
			fmt.Fprintf(b, " = [%s]", hex.EncodeToString(p.Value))
		}
		b.WriteString(";\n")
		if b.Len() > dtsMaxText {
			return
		}
	}
	for _, c := range n.Children {
		writeDTS(b, c, depth+1)
	}
	fmt.Fprintf(b, "%s};\n", ind)
}

// dtsStrings splits a property value made of printable NUL-terminated
// strings, or returns nil.
func dtsStrings(v []byte) []string {
	if len(v) == 0 || v[len(v)-1] != 0 {
		return nil
	}
	parts := strings.Split(string(v[:len(v)-1]), "\x00")
	for _, s := range parts {
		if s == "" {
			return nil
		}
		for _, c := range []byte(s) {
			if c < 0x20 || c > 0x7e {
				return nil
			}
		}
	}
	return parts
}

func (fitFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	h, root, err := parseFDT(ctx, r, size)
	if err != nil {
		return 0, err
	}
	if root.child("images") == nil {
		return 0, fmt.Errorf("%w: a device tree without /images", ErrNotFormat)
	}
	end := fitEnd(h, root)
	if end > size {
		end = size
	}
	var firstErr error
	seen := map[string]bool{}
	hashAlgos := map[string]bool{}
	hashesOK := true
	defer func() { fitRecord(w, root, hashAlgos, hashesOK) }()
	// a flood of sub-images over the same data must cost neither a copy
	// nor a hash pass each: one range is written once, and the bytes hashed
	// to verify hash nodes are bounded
	written := map[[2]int64]string{}
	hashLeft := max(4*size, 64<<20)
	dups := 0
	for i, im := range fitImages(h, root) {
		if ctx.Err() != nil {
			return end, ctx.Err()
		}
		name := safeName(im.name, fmt.Sprintf("image-%d", i))
		typ := im.node.str("type")
		if typ == "flat_dt" && !strings.HasSuffix(name, ".dtb") {
			name += ".dtb"
		}
		if seen[name] {
			name = fmt.Sprintf("%s-%d", name, i)
		}
		seen[name] = true
		path := "images/" + name
		if im.err != nil {
			w.Anomaly(AnomalyMalformed, path, "FIT image "+im.name+": "+im.err.Error())
			continue
		}
		if im.off < 0 || im.off+im.len > size {
			w.Anomaly(AnomalyMalformed, path, fmt.Sprintf("FIT image %s: data at 0x%x+%d runs past the end (0x%x)", im.name, im.off, im.len, size))
			if firstErr == nil {
				firstErr = fmt.Errorf("image %s: data past the end of the file", im.name)
			}
			continue
		}
		if prev, ok := written[[2]int64{im.off, im.len}]; ok {
			if dups++; dups <= 16 {
				w.Anomaly(AnomalyDuplicateName, path, fmt.Sprintf("FIT image %s has the same data as %s; not written again", im.name, prev))
			}
			continue
		}
		written[[2]int64{im.off, im.len}] = path
		if hashLeft > 0 {
			algos, ok, work := fitCheckHashes(ctx, r, im, path, w)
			for _, a := range algos {
				hashAlgos[a] = true
			}
			hashesOK = hashesOK && ok
			hashLeft -= work
			if hashLeft <= 0 {
				w.Anomaly(AnomalyLimit, path, fmt.Sprintf("limit reached: bytes hashed to verify FIT hash nodes (%d); the hashes of the images after this one were not checked", max(4*size, 64<<20)))
			}
		}
		comp := im.node.str("compression")
		codec, ok := fitCodecTable()[comp]
		if !ok {
			w.Anomaly(AnomalyMalformed, path, fmt.Sprintf("unknown compression %q; data written as is", comp))
		}
		if err := writePayload(ctx, w, path, codec, r, im.off, im.len); err != nil {
			if IsLimit(err) {
				return end, err
			}
			if firstErr == nil && !errors.Is(err, ErrRefused) && !IsEntryLimit(err) {
				firstErr = fmt.Errorf("image %s: %w", im.name, err)
			}
		}
	}
	if dups > 16 {
		w.Anomaly(AnomalyDuplicateName, "", fmt.Sprintf("%d FIT images in all had the same data as an earlier one; not written again", dups))
	}
	return end, firstErr
}

// fitRecord records how the FIT protects its content: signature-* nodes
// (under an image or a configuration) with a value are a signature; hash-*
// nodes alone are checksums (an unkeyed digest anyone can recompute); a
// FIT with neither is unprotected.
func fitRecord(w *Writer, root *fdtNode, hashAlgos map[string]bool, hashesOK bool) {
	var signed, unsigned []string
	sigAlgos := map[string]bool{}
	for _, top := range []string{"images", "configurations"} {
		parent := root.child(top)
		if parent == nil {
			continue
		}
		for _, n := range parent.Children {
			for _, c := range n.Children {
				if !strings.HasPrefix(c.Name, "signature") {
					continue
				}
				where := "/" + top + "/" + n.Name + "/" + c.Name
				algo := c.str("algo")
				if v := c.prop("value"); v == nil || v.Len == 0 {
					unsigned = append(unsigned, where)
					continue
				}
				if algo != "" {
					sigAlgos[algo] = true
				}
				d := where + " (" + algo
				if k := c.str("key-name-hint"); k != "" {
					d += ", key " + k
				}
				signed = append(signed, d+")")
			}
		}
	}
	keys := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if len(signed) > 0 {
		w.SetProtection(Protection{Kind: ProtectionSignature, Algorithms: keys(sigAlgos), Covers: "images or configurations named in the signature nodes",
			Detail: "FIT signature node(s) " + strings.Join(signed, "; ") + "; not verified: the public key lives in the boot loader's device tree, not in the image"})
		return
	}
	var why string
	if len(unsigned) > 0 {
		why = "; signature node(s) without a value (the image was never signed): " + strings.Join(unsigned, ", ")
	}
	if len(hashAlgos) > 0 {
		w.SetProtection(Protection{Kind: ProtectionChecksum, Algorithms: keys(hashAlgos), Covers: "each image's data", Verified: hashesOK,
			Detail: "FIT hash node(s) (" + strings.Join(keys(hashAlgos), ", ") + ") only: unkeyed digests anyone who changes an image can recompute; no signature node" + why})
		return
	}
	w.SetProtection(Protection{Kind: ProtectionNone, Algorithms: []string{}, Covers: "nothing",
		Detail: "FIT without hash or signature nodes: nothing protects its images" + why})
}

// fitCheckHashes verifies the image's hash-* nodes (crc32, md5, sha1,
// sha256, sha384, sha512) over its stored data, and returns the algorithms
// it checked, whether every one matched, and the bytes hashed.
func fitCheckHashes(ctx context.Context, r io.ReaderAt, im fitImage, path string, w *Writer) (algos []string, ok bool, work int64) {
	ok = true
	for _, c := range im.node.Children {
		if !strings.HasPrefix(c.Name, "hash") {
			continue
		}
		algo := c.str("algo")
		val := c.prop("value")
		if val == nil || val.Value == nil {
			continue
		}
		var hh hash.Hash
		switch algo {
		case "crc32":
			hh = crc32.NewIEEE()
		case "md5":
			hh = md5.New()
		case "sha1":
			hh = sha1.New()
		case "sha256":
			hh = sha256.New()
		case "sha384":
			hh = sha512.New384()
		case "sha512":
			hh = sha512.New()
		default:
			continue
		}
		work += im.len
		if _, err := io.CopyBuffer(hh, ctxReader{ctx, io.NewSectionReader(r, im.off, im.len)}, make([]byte, 256<<10)); err != nil {
			return algos, false, work
		}
		algos = append(algos, algo)
		if got := hh.Sum(nil); !bytes.Equal(got, val.Value) {
			ok = false
			w.Anomaly(AnomalyMalformed, path, fmt.Sprintf("FIT image %s: %s hash mismatch (stored %s, computed %s)",
				im.name, algo, hex.EncodeToString(val.Value), hex.EncodeToString(got)))
		}
	}
	return algos, ok, work
}
