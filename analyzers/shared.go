package analyzers

import (
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
