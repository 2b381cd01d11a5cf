#!/usr/bin/env python3
"""Write the manifest of a rootfs tree plus pseudo device nodes.

  manifest.py ROOTDIR PSEUDOFILE > rootfs.manifest

One line per entry, tab separated, sorted by path (bytewise):
  path  type  mode  size  extra
path  absolute path inside the image ("/" for the root directory)
type  d dir, f regular file, l symlink, c char device, b block device, p fifo
mode  permission bits, 4 octal digits (e.g. 0755, 1777)
size  bytes for f; length of the target for l; 0 otherwise
extra sha256 (hex) for f; link target for l; "major,minor" for c/b; "-" otherwise
Hard links appear as ordinary f lines with identical sha256 (see README).
"""
import hashlib
import os
import stat
import sys


def main(root, pseudo):
    rows = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(full, root)
            rows.append(entry(rel, full))
    rows.append(entry("/", root))
    for line in open(pseudo):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        path, typ, mode = f[0], f[1], f[2]
        if typ in "cb":
            rows.append((path, typ, "%04o" % int(mode, 8), "0", f"{f[5]},{f[6]}"))
        elif typ == "i":
            rows.append((path, "p", "%04o" % int(mode, 8), "0", "-"))
    rows.sort(key=lambda r: r[0].encode())
    for r in rows:
        print("\t".join(r))


def entry(rel, full):
    st = os.lstat(full)
    mode = "%04o" % stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        t = os.readlink(full)
        return (rel, "l", mode, str(len(t.encode())), t)
    if stat.S_ISDIR(st.st_mode):
        return (rel, "d", mode, "0", "-")
    if stat.S_ISREG(st.st_mode):
        h = hashlib.sha256(open(full, "rb").read()).hexdigest()
        return (rel, "f", mode, str(st.st_size), h)
    raise SystemExit(f"unexpected file type: {full}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
