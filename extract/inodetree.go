package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// The flash file systems (cramfs, JFFS2, YAFFS2, UBIFS) all end the same
// way: the parser has found the inodes and the directory entries, and the
// tree has to be written through the Writer. fsTree is that one writer:
// depth-first from the root, each directory's entries in the parser's
// order, with the same bounds (depth, symlink target size), the same
// anomalies (bad names, missing inodes, directory loops, too deep, unknown
// types, symlinks without target), the same hard-link handling and the
// same reaction to a failing entry (entryErrors). A parser supplies only
// how to list a directory and how to read an inode.

const (
	// fsMaxDepth bounds directory nesting.
	fsMaxDepth = 256
	// fsMaxTarget bounds the length of a symlink target.
	fsMaxTarget = 4096
)

// fsDirent is one directory entry: its name, the parser's handle of the
// inode it names, and the inode's identity (its number; 0 when it has none
// worth tracking, as for an empty cramfs directory), which detects
// directory loops and hard links.
type fsDirent[K any] struct {
	name string
	key  K
	id   uint64
}

// fsInode is what the writer needs of an inode.
type fsInode struct {
	// mode is the Unix st_mode: the file type picks what is written.
	mode uint32
	// data writes a regular file's content or a symlink's target.
	data func(out io.Writer) error
	// size is a symlink target's declared length (checked against
	// fsMaxTarget before it is read).
	size int64
	// major and minor number a device.
	major, minor uint32
	// link: regular files sharing a nonzero link are one file written
	// once, then hard-linked.
	link uint64
	// hardlinkTo: this entry is a hard link to the regular file of that
	// id (YAFFS2 hard-link objects); linked after the whole tree.
	hardlinkTo uint64
	// skip: not written (the parser reported why, or it is nothing).
	skip bool
	// err: reading the inode failed; handled like a failed write.
	err error
}

// fsTree writes a file system's tree.
type fsTree[K any] struct {
	fs     string // the format's name, prefixing every anomaly
	idWord string // what an id is called in messages ("inode", "object")
	w      *Writer
	ee     *entryErrors
	root   fsDirent[K]
	// children lists a directory's entries in the order they are written.
	children func(dir K) []fsDirent[K]
	// inode reads an entry's inode; ok is false when there is none.
	inode func(p string, d fsDirent[K]) (in fsInode, ok bool)

	ctx context.Context // of the current write
}

// ctxWriter stops writing a file's content when the context is cancelled,
// so a parser's content loop ends with the context.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// write writes the tree. reached is the number of entries met below the
// root (whether written or not).
func (t *fsTree[K]) write(ctx context.Context) (reached int, err error) {
	t.ctx = ctx
	type item struct {
		dir   K
		path  string
		depth int
	}
	type hardlink struct {
		path string
		to   uint64
	}
	var links []hardlink
	written := map[uint64]string{} // regular files by link, for hard links
	visited := map[uint64]bool{}
	if t.root.id != 0 {
		visited[t.root.id] = true
	}
	stack := []item{{t.root.key, "", 0}}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return reached, err
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var sub []item
		for _, d := range t.children(it.dir) {
			if reached++; reached%256 == 0 {
				if err := ctx.Err(); err != nil {
					return reached, err
				}
			}
			p := d.name
			if it.path != "" {
				p = it.path + "/" + d.name
			}
			if d.name == "" || d.name == "." || d.name == ".." || strings.ContainsAny(d.name, "/\x00") {
				t.w.Anomaly(AnomalyBadName, p, t.fs+": invalid entry name")
				continue
			}
			in, ok := t.inode(p, d)
			if !ok {
				t.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("%s: dirent points to %s %d, which has no valid inode node", t.fs, t.idWord, d.id))
				continue
			}
			switch {
			case in.err != nil:
				if stop, err := t.ee.check(p, in.err); stop {
					return reached, err
				}
				continue
			case in.skip:
				continue
			case in.hardlinkTo != 0:
				links = append(links, hardlink{p, in.hardlinkTo})
				continue
			case in.mode&sIFMT == sIFDIR:
				if d.id != 0 && visited[d.id] {
					t.w.Anomaly(AnomalyLoop, p, fmt.Sprintf("%s: directory %s %d appears twice; not descended again", t.fs, t.idWord, d.id))
					continue
				}
				if it.depth+1 > fsMaxDepth {
					t.w.Anomaly(AnomalyDepth, p, t.fs+": directory tree too deep")
					continue
				}
				if d.id != 0 {
					visited[d.id] = true
				}
				if stop, err := t.ee.check(p, t.w.Mkdir(p, unixToFileMode(in.mode))); stop {
					return reached, err
				} else if err == nil {
					sub = append(sub, item{d.key, p, it.depth + 1})
				}
				continue
			}
			if stop, err := t.entry(p, in, written); stop {
				return reached, err
			}
		}
		// push in reverse so that entries come out in order
		for i := len(sub) - 1; i >= 0; i-- {
			stack = append(stack, sub[i])
		}
	}
	for _, l := range links {
		first, ok := written[l.to]
		if !ok {
			t.w.Anomaly(AnomalyMalformed, l.path, fmt.Sprintf("%s: hard link to %s %d, which is not an extracted regular file", t.fs, t.idWord, l.to))
			continue
		}
		if stop, err := t.ee.check(l.path, t.w.Link(l.path, first)); stop {
			return reached, err
		}
	}
	return reached, nil
}

// entry writes one non-directory entry. stop says the tree must stop.
func (t *fsTree[K]) entry(p string, in fsInode, written map[uint64]string) (stop bool, err error) {
	perm := in.mode & 0o7777
	switch in.mode & sIFMT {
	case sIFREG:
		if first, ok := written[in.link]; ok && in.link != 0 {
			return t.ee.check(p, t.w.Link(p, first))
		}
		f, err := t.w.Create(p, unixToFileMode(in.mode))
		if err != nil {
			return t.ee.check(p, err)
		}
		if in.link != 0 {
			written[in.link] = p
		}
		if in.data != nil {
			err = in.data(ctxWriter{t.ctx, f})
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			if IsLimit(err) {
				return true, err
			}
			return t.ee.check(p, err) // a cancelled context stops here too
		}
		return false, nil
	case sIFLNK:
		if in.size > fsMaxTarget {
			t.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("%s: symlink target of %d bytes not extracted", t.fs, in.size))
			return false, nil
		}
		var b bytes.Buffer
		if in.data != nil {
			if err := in.data(&b); err != nil {
				return t.ee.check(p, err)
			}
		}
		target := strings.TrimRight(b.String(), "\x00")
		if target == "" {
			t.w.Anomaly(AnomalyMalformed, p, t.fs+": symlink without target")
			return false, nil
		}
		return t.ee.check(p, t.w.Symlink(p, target))
	case sIFCHR:
		return t.ee.check(p, t.w.Special(p, "char", perm, in.major, in.minor))
	case sIFBLK:
		return t.ee.check(p, t.w.Special(p, "block", perm, in.major, in.minor))
	case sIFIFO:
		return t.ee.check(p, t.w.Special(p, "fifo", perm, 0, 0))
	case sIFSOCK:
		return t.ee.check(p, t.w.Special(p, "socket", perm, 0, 0))
	}
	t.w.Anomaly(AnomalyMalformed, p, fmt.Sprintf("%s: unknown file type in mode %o; not extracted", t.fs, in.mode))
	return false, nil
}

// newDevice splits a Linux new_encode_dev device number.
func newDevice(v uint32) (major, minor uint32) {
	return (v & 0xfff00) >> 8, (v & 0xff) | ((v >> 12) & 0xfff00)
}
