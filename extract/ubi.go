package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strings"
)

// ubiFormat is a UBI image (the raw content of an MTD partition managed by
// UBI, as ubinize or a NAND dump gives it). Every physical erase block
// (PEB) starts with an erase-counter header ("UBI#"); a mapped PEB also
// holds a volume-identifier header ("UBI!") saying which logical erase
// block (LEB) of which volume it carries. The volume table lives in the
// layout volume. Each volume is written as volumes/<name>.img, which the
// engine carves again (UBIFS, SquashFS, ...).
type ubiFormat struct{}

func init() { Register(ubiFormat{}) }

func (ubiFormat) Name() string    { return "ubi" }
func (ubiFormat) Kind() Kind      { return Container }
func (ubiFormat) Magics() []Magic { return []Magic{{0, []byte("UBI#")}} }

const (
	ubiECHdrSize    = 64
	ubiVIDHdrSize   = 64
	ubiVtblRecSize  = 172
	ubiMaxVolumes   = 128
	ubiLayoutVolID  = 0x7fffefff
	ubiMinPEB       = 512
	ubiMaxPEB       = 16 << 20
	ubiMaxPEBs      = 1 << 20
	ubiVolDynamic   = 1
	ubiVolStatic    = 2
	ubiMaxVolNameSz = 127
)

// ubiCRC is the kernel's crc32_le seeded with ~0 and not inverted at the end.
func ubiCRC(b []byte) uint32 { return ^crc32.ChecksumIEEE(b) }

type ubiEC struct {
	vidOff, dataOff uint32
	imageSeq        uint32
}

func ubiParseEC(h []byte) (ubiEC, bool) {
	var e ubiEC
	if len(h) < ubiECHdrSize || string(h[:4]) != "UBI#" || h[4] != 1 {
		return e, false
	}
	if ubiCRC(h[:60]) != binary.BigEndian.Uint32(h[60:]) {
		return e, false
	}
	e.vidOff = binary.BigEndian.Uint32(h[16:])
	e.dataOff = binary.BigEndian.Uint32(h[20:])
	e.imageSeq = binary.BigEndian.Uint32(h[24:])
	if e.vidOff < ubiECHdrSize || e.vidOff%8 != 0 || e.dataOff < e.vidOff+ubiVIDHdrSize || e.dataOff > ubiMaxPEB/2 {
		return e, false
	}
	return e, true
}

type ubiVID struct {
	volType  uint8
	copyFlag uint8
	volID    uint32
	lnum     uint32
	dataSize uint32
	usedEBs  uint32
	dataPad  uint32
	dataCRC  uint32
	sqnum    uint64
}

func ubiParseVID(h []byte) (ubiVID, bool) {
	var v ubiVID
	if len(h) < ubiVIDHdrSize || string(h[:4]) != "UBI!" || h[4] != 1 {
		return v, false
	}
	if ubiCRC(h[:60]) != binary.BigEndian.Uint32(h[60:]) {
		return v, false
	}
	be := binary.BigEndian
	v.volType, v.copyFlag = h[5], h[6]
	v.volID, v.lnum = be.Uint32(h[8:]), be.Uint32(h[12:])
	v.dataSize, v.usedEBs, v.dataPad, v.dataCRC = be.Uint32(h[20:]), be.Uint32(h[24:]), be.Uint32(h[28:]), be.Uint32(h[32:])
	v.sqnum = be.Uint64(h[40:])
	if v.volType != ubiVolDynamic && v.volType != ubiVolStatic {
		return v, false
	}
	return v, true
}

func (ubiFormat) Identify(h []byte) bool {
	ec, ok := ubiParseEC(h)
	if !ok {
		return false
	}
	// the VID header, if the header buffer reaches it, is valid or erased
	if int(ec.vidOff)+ubiVIDHdrSize <= len(h) {
		vh := h[ec.vidOff : ec.vidOff+ubiVIDHdrSize]
		if _, ok := ubiParseVID(vh); !ok && !bytes.Equal(vh, bytes.Repeat([]byte{0xff}, ubiVIDHdrSize)) {
			return false
		}
	}
	return true
}

func (ubiFormat) Bound(io.ReaderAt, int64) (int64, error) { return -1, nil }

// ubiPEBSize finds the PEB size: the smallest distance from the first EC
// header to another valid EC header of the same image.
func ubiPEBSize(r io.ReaderAt, size int64, first ubiEC) (int64, error) {
	buf := make([]byte, ubiECHdrSize)
	for off := int64(ubiMinPEB); off <= ubiMaxPEB && off < size; off += ubiMinPEB {
		if off%ubiMinPEB != 0 {
			continue
		}
		if n, _ := r.ReadAt(buf, off); n < ubiECHdrSize {
			break
		}
		if string(buf[:4]) != "UBI#" {
			continue
		}
		ec, ok := ubiParseEC(buf)
		if !ok || ec.vidOff != first.vidOff || ec.dataOff != first.dataOff || ec.imageSeq != first.imageSeq {
			continue
		}
		if off <= int64(first.dataOff) {
			continue
		}
		return off, nil
	}
	// a single PEB: the data offset tells at least where the data starts
	if size > int64(first.dataOff) && size <= ubiMaxPEB {
		return size, nil
	}
	return 0, fmt.Errorf("%w: no second erase-counter header found", ErrNotFormat)
}

type ubiLEB struct {
	peb int64 // offset of the PEB
	vid ubiVID
}

type ubiVolRec struct {
	reservedPEBs uint32
	alignment    uint32
	dataPad      uint32
	volType      uint8
	name         string
}

func (ubiFormat) Unpack(ctx context.Context, r io.ReaderAt, size int64, w *Writer) (int64, error) {
	first, ok := ubiParseEC(readHeader(r, 0, size, ubiECHdrSize))
	if !ok {
		return 0, fmt.Errorf("%w: bad erase-counter header", ErrNotFormat)
	}
	peb, err := ubiPEBSize(r, size, first)
	if err != nil {
		return 0, err
	}
	lebSize := peb - int64(first.dataOff)
	// walk the PEBs: the image ends at the first block that is neither a
	// UBI block nor erased
	type key struct{ vol, lnum uint32 }
	lebs := map[key][]ubiLEB{}
	end := int64(0)
	hdr := make([]byte, int(first.vidOff)+ubiVIDHdrSize)
	badEC, badVID, n := 0, 0, 0
	for off := int64(0); off+int64(len(hdr)) <= size; off += peb {
		if n >= ubiMaxPEBs {
			w.Anomaly(AnomalyLimit, "", fmt.Sprintf("more than %d erase blocks; the rest is ignored", ubiMaxPEBs))
			break
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return end, ctx.Err()
		}
		if _, err := r.ReadAt(hdr, off); err != nil {
			break
		}
		ec, ok := ubiParseEC(hdr)
		if !ok {
			if allFF(hdr[:4]) {
				end, n = min(off+peb, size), n+1 // erased block
				continue
			}
			if string(hdr[:4]) != "UBI#" {
				break
			}
			badEC++
			end, n = min(off+peb, size), n+1
			continue
		}
		if ec.vidOff != first.vidOff || ec.dataOff != first.dataOff {
			break // another image
		}
		n++
		end = min(off+peb, size)
		vh := hdr[ec.vidOff : ec.vidOff+ubiVIDHdrSize]
		vid, ok := ubiParseVID(vh)
		if !ok {
			if !allFF(vh) {
				badVID++
			}
			continue
		}
		k := key{vid.volID, vid.lnum}
		if len(lebs[k]) < 16 {
			lebs[k] = append(lebs[k], ubiLEB{peb: off, vid: vid})
		}
	}
	if badEC > 0 {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("%d erase blocks with a corrupt erase-counter header", badEC))
	}
	if badVID > 0 {
		w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("%d erase blocks with a corrupt volume-identifier header", badVID))
	}
	if len(lebs) == 0 {
		if n > 1 {
			return end, fmt.Errorf("UBI image of %d erase blocks holds no mapped blocks", n)
		}
		return 0, fmt.Errorf("%w: no volume-identifier headers", ErrNotFormat)
	}
	// pick, for each LEB, the copy with the highest sqnum whose data is
	// intact (copies made by wear-levelling carry a data CRC)
	chosen := map[uint32]map[uint32]ubiLEB{}
	keys := make([]key, 0, len(lebs))
	for k := range lebs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].vol != keys[j].vol {
			return keys[i].vol < keys[j].vol
		}
		return keys[i].lnum < keys[j].lnum
	})
	for _, k := range keys {
		cands := lebs[k]
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].vid.sqnum > cands[j].vid.sqnum })
		pick := -1
		for i, c := range cands {
			if c.vid.copyFlag == 0 || ubiDataCRCOK(r, size, c, first.dataOff, lebSize) {
				pick = i
				break
			}
		}
		if pick < 0 {
			pick = 0
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("volume %d LEB %d: data CRC mismatch in every copy", k.vol, k.lnum))
		}
		if chosen[k.vol] == nil {
			chosen[k.vol] = map[uint32]ubiLEB{}
		}
		chosen[k.vol][k.lnum] = cands[pick]
	}
	vols := ubiReadVtbl(r, size, chosen[ubiLayoutVolID], first.dataOff, lebSize, w)
	var ids []uint32
	for id := range chosen {
		if id < ubiLayoutVolID {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	used := map[string]bool{}
	wrote := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return end, err
		}
		rec, known := vols[id]
		if !known && vols != nil {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("volume %d has blocks but no volume-table record", id))
		}
		name := ubiVolFileName(rec.name, id, used)
		err := ubiWriteVolume(r, size, w, name, n, rec, known, chosen[id], first.dataOff, lebSize)
		if err != nil {
			if IsLimit(err) {
				return end, err
			}
			if err == ErrRefused || IsEntryLimit(err) {
				continue
			}
			return end, err
		}
		wrote++
	}
	for id, rec := range vols {
		if chosen[id] == nil {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("volume %d (%q) is empty", id, rec.name))
		}
	}
	if wrote == 0 {
		return end, fmt.Errorf("no user volumes with data")
	}
	return end, nil
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func ubiDataCRCOK(r io.ReaderAt, size int64, l ubiLEB, dataOff uint32, lebSize int64) bool {
	if int64(l.vid.dataSize) > lebSize {
		return false
	}
	buf := make([]byte, l.vid.dataSize)
	if n, _ := r.ReadAt(buf, l.peb+int64(dataOff)); n < len(buf) {
		return false
	}
	return ubiCRC(buf) == l.vid.dataCRC
}

// ubiReadVtbl reads the volume table from the layout volume (LEB 0, or its
// copy in LEB 1). nil means there was none.
func ubiReadVtbl(r io.ReaderAt, size int64, layout map[uint32]ubiLEB, dataOff uint32, lebSize int64, w *Writer) map[uint32]ubiVolRec {
	if layout == nil {
		w.Anomaly(AnomalyMalformed, "", "no layout volume: volume names unknown")
		return nil
	}
	n := int(min(lebSize/ubiVtblRecSize, ubiMaxVolumes))
	for _, lnum := range []uint32{0, 1} {
		l, ok := layout[lnum]
		if !ok {
			continue
		}
		buf := make([]byte, n*ubiVtblRecSize)
		if m, _ := r.ReadAt(buf, l.peb+int64(dataOff)); m < len(buf) {
			continue
		}
		vols := map[uint32]ubiVolRec{}
		bad := 0
		for i := 0; i < n; i++ {
			rec := buf[i*ubiVtblRecSize : (i+1)*ubiVtblRecSize]
			if ubiCRC(rec[:168]) != binary.BigEndian.Uint32(rec[168:]) {
				bad++
				continue
			}
			v := ubiVolRec{
				reservedPEBs: binary.BigEndian.Uint32(rec[0:]),
				alignment:    binary.BigEndian.Uint32(rec[4:]),
				dataPad:      binary.BigEndian.Uint32(rec[8:]),
				volType:      rec[12],
			}
			if v.reservedPEBs == 0 {
				continue
			}
			nl := int(binary.BigEndian.Uint16(rec[14:]))
			if nl > ubiMaxVolNameSz {
				nl = ubiMaxVolNameSz
			}
			v.name = string(rec[16 : 16+nl])
			vols[uint32(i)] = v
		}
		if bad > 0 {
			w.Anomaly(AnomalyMalformed, "", fmt.Sprintf("volume table copy %d: %d records with a bad CRC", lnum, bad))
			if lnum == 0 && layout[1].peb != 0 {
				continue
			}
		}
		return vols
	}
	w.Anomaly(AnomalyMalformed, "", "volume table unreadable: volume names unknown")
	return nil
}

// ubiVolFileName makes volumes/<name>.img from a volume name.
func ubiVolFileName(name string, id uint32, used map[string]bool) string {
	clean := strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c >= 0x80 {
			return '_'
		}
		return c
	}, name)
	if clean == "" || clean == "." || clean == ".." {
		clean = fmt.Sprintf("vol%d", id)
	}
	p := "volumes/" + clean + ".img"
	if used[p] {
		p = fmt.Sprintf("volumes/%s-%d.img", clean, id)
	}
	used[p] = true
	return p
}

func ubiWriteVolume(r io.ReaderAt, size int64, w *Writer, name string, pebs int, rec ubiVolRec, known bool, lebs map[uint32]ubiLEB, dataOff uint32, lebSize int64) error {
	var maxL uint32
	static := false
	limit := uint32(pebs)
	if known {
		static = rec.volType == ubiVolStatic
		limit = min(rec.reservedPEBs, ubiMaxPEBs)
	}
	beyond := 0
	for l, v := range lebs {
		if l >= limit {
			beyond++
			continue
		}
		maxL = max(maxL, l)
		static = static || (!known && v.vid.volType == ubiVolStatic)
	}
	if beyond > 0 {
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("%d LEBs numbered beyond the %d the volume can hold; ignored", beyond, limit))
	}
	volLEB := lebSize
	if known && int64(rec.dataPad) < lebSize {
		volLEB = lebSize - int64(rec.dataPad)
	}
	last := maxL
	if static {
		// a static volume is used_ebs LEBs long, the last trimmed to data_size
		if v, ok := lebs[0]; ok && v.vid.usedEBs > 0 && v.vid.usedEBs-1 < last {
			last = v.vid.usedEBs - 1
		}
	}
	f, err := w.Create(name, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, volLEB)
	ff := bytes.Repeat([]byte{0xff}, int(volLEB))
	missing := 0
	for l := uint32(0); l <= last && len(lebs) > 0; l++ {
		v, ok := lebs[l]
		if ok && l >= limit {
			ok = false
		}
		if !ok {
			missing++
			if static {
				continue
			}
			if _, err := f.Write(ff); err != nil {
				return err
			}
			continue
		}
		n := volLEB
		if static {
			n = min(int64(v.vid.dataSize), volLEB)
		}
		m, _ := r.ReadAt(buf[:n], v.peb+int64(dataOff))
		if int64(m) < n {
			w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("LEB %d truncated", l))
			copy(buf[m:n], ff)
		}
		if static && v.copyFlagCheck() && ubiCRC(buf[:n]) != v.vid.dataCRC {
			w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("static volume LEB %d: data CRC mismatch", l))
		}
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
	}
	if missing > 0 {
		what := "unmapped (read as erased)"
		if static {
			what = "missing from a static volume"
		}
		w.Anomaly(AnomalyMalformed, name, fmt.Sprintf("%d LEBs %s", missing, what))
	}
	return f.Close()
}

// copyFlagCheck says whether the data CRC of a static volume LEB applies
// (it always does for static volumes).
func (l ubiLEB) copyFlagCheck() bool { return l.vid.volType == ubiVolStatic }
