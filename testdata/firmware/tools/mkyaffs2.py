#!/usr/bin/env python3
"""Pack a directory tree as a YAFFS2 NAND image (page data + spare per chunk).

Debian ships no YAFFS2 image builder (only the extractor unyaffs), so this
writes what mkyaffs2image (yaffs2 utils) writes, from struct yaffs_obj_hdr and
struct yaffs_packed_tags2_tags_only:

  - one object header chunk per object (chunk id 0), then the file's data
    chunks (chunk ids 1..n, byte count in the tags); object ids from 257, the
    root is object 1 and has no header;
  - hard links (same st_ino as an earlier file) are HARDLINK objects with
    equiv_id, symlinks carry the target in alias, devices/fifos are SPECIAL
    objects with st_rdev;
  - every chunk has sequence number 0x1000; unused header bytes are 0xFF;
  - atime and ctime are written as mtime (reading a file changes its atime,
    touch cannot pin ctime), so the output is reproducible.

usage: mkyaffs2.py [--page N] [--spare N] [--tag-offset 0|2] [--extra]
                   [--big-endian] DIR OUT

--tag-offset 2 leaves the two bad block marker bytes of the spare area at
0xFF (the layout of the Linux MTD driver); --extra stores the type and parent
in the header chunk's tags as the Linux kernel does (chunk id =
0x80000000 | parent, object id |= type << 28, byte count = file size).
Entries are written in sorted name order, so the output is reproducible.
"""
import argparse
import os
import stat
import struct
import sys

FILE, SYMLINK, DIR, HARDLINK, SPECIAL = 1, 2, 3, 4, 5
SEQ = 0x1000


class Image:
    def __init__(self, out, page, spare, tag_off, extra, endian):
        self.out, self.page, self.spare = out, page, spare
        self.tag_off, self.extra, self.e = tag_off, extra, endian
        self.next_id = 257
        self.inodes = {}  # st_ino -> object id of the first file

    def chunk(self, data, obj, chunk, nbytes):
        page = data + b"\xff" * (self.page - len(data))
        tags = struct.pack(self.e + "IIII", SEQ, obj, chunk, nbytes)
        spare = bytearray(b"\xff" * self.spare)
        spare[self.tag_off:self.tag_off + 16] = tags
        self.out.write(page + bytes(spare))

    def header(self, obj, typ, parent, name, st, size=0, equiv=0, alias=b"", rdev=0):
        e = self.e
        name = name.encode()
        if len(name) > 255 or len(alias) > 159:
            sys.exit("name or link target too long: %r" % name)
        h = struct.pack(e + "II", typ, parent) + b"\xff\xff"
        h += name + b"\0" * (256 - len(name)) + b"\xff\xff"
        h += struct.pack(e + "IIIIIIIi", st.st_mode, st.st_uid, st.st_gid,
                         int(st.st_mtime), int(st.st_mtime), int(st.st_mtime), size, equiv)
        h += alias + b"\0" * (160 - len(alias))
        h += struct.pack(e + "I", rdev)
        h += b"\xff" * (512 - len(h))
        tobj, tchunk, tn = obj, 0, 0xFFFF
        if self.extra:
            tobj |= typ << 28
            tchunk = 0x80000000 | parent
            tn = size if typ == FILE else (equiv if typ == HARDLINK else 0)
        self.chunk(h, tobj, tchunk, tn)

    def add(self, path, name, parent):
        st = os.lstat(path)
        obj = self.next_id
        self.next_id += 1
        m = st.st_mode
        if stat.S_ISREG(m) and st.st_nlink > 1 and st.st_ino in self.inodes:
            self.header(obj, HARDLINK, parent, name, st, equiv=self.inodes[st.st_ino])
        elif stat.S_ISREG(m):
            self.inodes[st.st_ino] = obj
            with open(path, "rb") as f:
                data = f.read()
            self.header(obj, FILE, parent, name, st, size=len(data))
            for i in range(0, len(data), self.page):
                d = data[i:i + self.page]
                self.chunk(d, obj, i // self.page + 1, len(d))
        elif stat.S_ISLNK(m):
            self.header(obj, SYMLINK, parent, name, st, alias=os.readlink(path).encode())
        elif stat.S_ISDIR(m):
            self.header(obj, DIR, parent, name, st)
            self.walk(path, obj)
        else:
            self.header(obj, SPECIAL, parent, name, st, rdev=st.st_rdev)

    def walk(self, d, parent):
        for name in sorted(os.listdir(d)):
            self.add(os.path.join(d, name), name, parent)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", type=int, default=2048)
    ap.add_argument("--spare", type=int, default=64)
    ap.add_argument("--tag-offset", type=int, default=0, choices=(0, 2))
    ap.add_argument("--extra", action="store_true")
    ap.add_argument("--big-endian", action="store_true")
    ap.add_argument("dir")
    ap.add_argument("out")
    a = ap.parse_args()
    if a.tag_offset + 16 > a.spare:
        sys.exit("the tags do not fit in the spare area")
    with open(a.out, "wb") as out:
        Image(out, a.page, a.spare, a.tag_offset, a.extra, ">" if a.big_endian else "<").walk(a.dir, 1)


if __name__ == "__main__":
    main()
