#!/usr/bin/env python3
"""Derive broken SquashFS images from good ones.

  sqfspatch.py truncate      IN OUT PERCENT  keep the first PERCENT% of IN
  sqfspatch.py corrupt-data  IN OUT          overwrite 64 bytes in the middle of the data
                                             area [96, inode_table_start) with garbage
  sqfspatch.py corrupt-table IN OUT          set superblock inode_table_start (offset 64,
                                             u64 LE) to 0x4141414141414141
  sqfspatch.py loop          IN OUT          IN must be built with -noI (uncompressed
                                             metadata) and contain directories /a and /a/b;
                                             the directory entry "b" inside /a is rewritten
                                             to reference the inode of /a itself, so
                                             /a/b == /a (a directory cycle).
Prints what it did (offsets) on stdout.
"""
import random
import struct
import sys


def sb(img):
    f = struct.unpack_from("<IIIIIHHHHHHQQQQQQQQ", img, 0)
    keys = ("magic inodes mkfs_time block_size frags comp block_log flags ids major minor "
            "root_inode bytes_used id_table xattr_table inode_table dir_table frag_table "
            "export_table").split()
    d = dict(zip(keys, f))
    assert d["magic"] == 0x73717368, "not a squashfs 4 LE image"
    return d


class Meta:
    """Uncompressed metadata table view: maps logical positions to file offsets."""

    def __init__(self, img, start, end):
        self.data = bytearray()
        self.fileofs = []          # file offset for each logical byte
        self.blockstart = {}       # logical pos of block -> block offset rel. to table
        pos = start
        while pos < end:
            (h,) = struct.unpack_from("<H", img, pos)
            size = h & 0x7FFF
            if not h & 0x8000:
                raise SystemExit("metadata block at %#x is compressed; build with -noI" % pos)
            self.blockstart[pos - start] = len(self.data)
            self.data += img[pos + 2:pos + 2 + size]
            self.fileofs += range(pos + 2, pos + 2 + size)
            pos += 2 + size

    def at(self, block, offset):
        return self.blockstart[block] + offset


def inode(meta, ref):
    pos = meta.at(ref >> 16, ref & 0xFFFF)
    typ, _, _, _, _, ino = struct.unpack_from("<HHHHII", meta.data, pos)
    if typ == 1:
        start, _, size, off, _ = struct.unpack_from("<IIHHI", meta.data, pos + 16)
    elif typ == 8:
        _, size, start, _, _, off = struct.unpack_from("<IIIIHH", meta.data, pos + 16)
    else:
        return typ, ino, None
    return typ, ino, (start, off, size - 3)


def listdir(dmeta, start, off, size):
    """Yield (name, entry_logical_pos, header_start, header_ino, offset, ino_delta, type)."""
    pos = dmeta.at(start, off)
    end = pos + size
    while pos < end:
        count, hstart, hino = struct.unpack_from("<III", dmeta.data, pos)
        pos += 12
        for _ in range(count + 1):
            eoff, delta, typ, nsz = struct.unpack_from("<HhHH", dmeta.data, pos)
            name = bytes(dmeta.data[pos + 8:pos + 9 + nsz]).decode()
            yield name, pos, hstart, hino, eoff, delta, typ
            pos += 9 + nsz


def loop(img):
    s = sb(img)
    imeta = Meta(img, s["inode_table"], s["dir_table"])
    dmeta = Meta(img, s["dir_table"], s["frag_table"] if s["frag_table"] != 2**64 - 1
                 else s["export_table"] if s["export_table"] != 2**64 - 1 else s["id_table"])
    _, _, rootdir = inode(imeta, s["root_inode"])
    a = [e for e in listdir(dmeta, *rootdir) if e[0] == "a"][0]
    a_ref = (a[2] << 16) | a[4]
    a_ino = a[3] + a[5]
    _, _, adir = inode(imeta, a_ref)
    b = [e for e in listdir(dmeta, *adir) if e[0] == "b"][0]
    name, epos, hstart, hino, eoff, delta, typ = b
    if hstart != a[2]:
        raise SystemExit("inodes of /a and /a/b are in different metadata blocks")
    new = struct.pack("<Hh", a[4], a_ino - hino)
    for i, byte in enumerate(new):
        img[dmeta.fileofs[epos + i]] = byte
    print(f"loop: entry 'b' of /a at file offset {dmeta.fileofs[epos]:#x}: "
          f"inode offset {eoff:#x} -> {a[4]:#x} (inode {hino + delta} -> {a_ino}, = /a)")
    return img


def main():
    cmd, src, dst = sys.argv[1:4]
    img = bytearray(open(src, "rb").read())
    if cmd == "truncate":
        n = len(img) * int(sys.argv[4]) // 100
        img = img[:n]
        print(f"truncate: kept {n} bytes")
    elif cmd == "corrupt-data":
        s = sb(img)
        mid = (96 + s["inode_table"]) // 2
        r = random.Random(9)
        img[mid:mid + 64] = bytes(r.getrandbits(8) for _ in range(64))
        print(f"corrupt-data: 64 bytes at {mid:#x} (data area 0x60..{s['inode_table']:#x})")
    elif cmd == "corrupt-table":
        sb(img)
        struct.pack_into("<Q", img, 64, 0x4141414141414141)
        print("corrupt-table: inode_table_start := 0x4141414141414141")
    elif cmd == "loop":
        img = loop(img)
    else:
        sys.exit(__doc__)
    open(dst, "wb").write(img)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main()
