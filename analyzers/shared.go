package analyzers

import (
	"bufio"
	"errors"
	"io"
	"path"
)

// ReadHead reads the first min(size, bound) bytes of f into a buffer of
// exactly that size.
func (t *Target) ReadHead(f File, bound int64) ([]byte, error) {
	fh, err := t.Open(f)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	buf := make([]byte, min(f.Size, bound))
	n, err := io.ReadFull(fh, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return buf[:n], nil
}

// DropUnpackedCopies drops an item (a key, a secret) found in a container file (an
// uncompressed cpio, tar or flash dump) when the same item is also found in
// a layer unpacked from that file: the extracted file is the better place
// to report it. info returns an item's layer ID, path and fingerprint.
func DropUnpackedCopies[T any](t *Target, items []T, info func(T) (layer, path, fp string)) []T {
	parent := map[string]string{}
	children := map[[2]string][]string{} // (parent layer, source path) → child layers
	for _, l := range t.Layers {
		parent[l.ID] = l.Parent
		if l.Parent != "" && l.Source != "" {
			k := [2]string{l.Parent, path.Clean("/" + l.Source)}
			children[k] = append(children[k], l.ID)
		}
	}
	if len(children) == 0 {
		return items
	}
	below := func(id, anc string) bool {
		for i := 0; id != "" && i < 64; i++ {
			if id == anc {
				return true
			}
			id = parent[id]
		}
		return false
	}
	byFP := map[string][]string{} // fingerprint → layers holding it
	for _, it := range items {
		l, _, fp := info(it)
		byFP[fp] = append(byFP[fp], l)
	}
	out := items[:0]
	for _, it := range items {
		l, p, fp := info(it)
		dup := false
		for _, c := range children[[2]string{l, p}] {
			for _, other := range byFP[fp] {
				if below(other, c) {
					dup = true
				}
			}
		}
		if !dup {
			out = append(out, it)
		}
	}
	return out
}

// LineBound is the longest line ReadLines keeps. Configuration and account
// files have short lines; a longer one (a 1 MiB comment put first to push
// the real entries past a read bound) is blanked instead.
const LineBound = 64 << 10

// ScanBound is how much of a file ReadLines reads at most.
const ScanBound = 64 << 20

// ReadLines reads the text file f line by line, keeping at most max bytes
// of lines. A line longer than LineBound is replaced by an empty line (line
// numbers stay right) and counted in blanked, so an overlong line is no
// hiding place for what follows it. When the kept lines or the bytes read
// reach their bound, the data ends at the last whole line and err is
// ErrTooBig: the caller must say that it stopped.
func (t *Target) ReadLines(f File, max int64) (data []byte, blanked int, err error) {
	fh, err := t.Open(f)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(io.LimitReader(fh, ScanBound+1), 64<<10)
	out := make([]byte, 0, min(f.Size, max))
	var read int64
	for {
		line, long, rerr := readLine(br, LineBound)
		read += int64(len(line)) + long
		if long > 0 {
			blanked++
			line = []byte{'\n'}
			if rerr == io.EOF {
				line = nil
			}
		}
		if int64(len(out)+len(line)) > max || read > ScanBound {
			return out, blanked, ErrTooBig
		}
		out = append(out, line...)
		if rerr == io.EOF {
			return out, blanked, nil
		}
		if rerr != nil {
			return out, blanked, rerr
		}
	}
}

// readLine returns the next line with its newline. A line longer than
// bound is consumed and dropped: line is nil and long its length.
func readLine(br *bufio.Reader, bound int) (line []byte, long int64, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if long == 0 && len(line)+len(frag) <= bound {
			line = append(line, frag...)
		} else {
			long += int64(len(line) + len(frag))
			line = nil
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long > 0 {
			return nil, long, err
		}
		return line, 0, err
	}
}
