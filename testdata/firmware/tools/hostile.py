#!/usr/bin/env python3
"""Hand-made hostile archives (path traversal, symlink escapes, device nodes).

  hostile.py OUTDIR

Writes evil-traversal.tar, evil-traversal.zip, evil-traversal.cpio,
evil-symlink.tar, evil-devices.tar into OUTDIR. All entries: mtime 1425895200,
uid/gid 0, owner root/root. Contents are fixed ASCII strings (see README).
"""
import io
import os
import sys
import tarfile
import zipfile

MTIME = 1425895200
ZIPTIME = (2015, 3, 9, 10, 0, 0)


def tinfo(name, typ=tarfile.REGTYPE, mode=0o644, size=0, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.mode = mode
    ti.size = size
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def write_tar(path, members):
    # members: list of (TarInfo, bytes|None)
    with open(path, "wb") as f:
        with tarfile.open(fileobj=f, mode="w", format=tarfile.GNU_FORMAT) as t:
            for ti, data in members:
                if data is not None:
                    ti.size = len(data)
                    t.addfile(ti, io.BytesIO(data))
                else:
                    t.addfile(ti)


def regfile(name, text):
    data = text.encode()
    return (tinfo(name, size=len(data)), data)


def cpio_newc(entries):
    """entries: list of (name, mode, data)."""
    out = bytearray()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        nb = name.encode() + b"\0"
        fields = [ino if name != "TRAILER!!!" else 0, mode, 0, 0,
                  1 if name != "TRAILER!!!" else 0, MTIME if name != "TRAILER!!!" else 0,
                  len(data), 0, 0, 0, 0, len(nb), 0]
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        out += hdr + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
        ino += 1
    out += b"\0" * (-len(out) % 512)
    return bytes(out)


def main(outdir):
    p = lambda n: os.path.join(outdir, n)

    write_tar(p("evil-traversal.tar"), [
        regfile("../../evil.txt", "evil: escaped via ../../\n"),
        regfile("/etc/absolute.txt", "evil: absolute path\n"),
        regfile("ok/good.txt", "good file\n"),
    ])

    with zipfile.ZipFile(p("evil-traversal.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("../evil.txt", "evil: escaped via ../\n"),
                           ("/abs.txt", "evil: absolute path\n"),
                           ("ok/good.txt", "good file\n")):
            zi = zipfile.ZipInfo(name, ZIPTIME)
            zi.external_attr = (0o100644 << 16)
            zi.create_system = 3
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, text)

    open(p("evil-traversal.cpio"), "wb").write(cpio_newc([
        ("../../evil.txt", 0o100644, b"evil: escaped via ../../\n"),
        ("/etc/abs.txt", 0o100644, b"evil: absolute path\n"),
        ("ok/good.txt", 0o100644, b"good file\n"),
    ]))

    write_tar(p("evil-symlink.tar"), [
        (tinfo("link", tarfile.SYMTYPE, 0o777, linkname="/tmp"), None),
        regfile("link/pwned.txt", "evil: written through absolute symlink\n"),
        (tinfo("up", tarfile.SYMTYPE, 0o777, linkname="../../.."), None),
        regfile("up/escape.txt", "evil: written through relative symlink\n"),
        (tinfo("hl", tarfile.LNKTYPE, 0o644, linkname="../../etc/passwd"), None),
    ])

    write_tar(p("evil-devices.tar"), [
        (tinfo("dev/console", tarfile.CHRTYPE, 0o600, devmajor=5, devminor=1), None),
        (tinfo("dev/sda", tarfile.BLKTYPE, 0o660, devmajor=8, devminor=0), None),
        (tinfo("dev/initctl", tarfile.FIFOTYPE, 0o600), None),
    ])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
