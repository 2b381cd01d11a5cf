#!/usr/bin/env bash
# Build the YAFFS2 fixtures of testdata/firmware described in YAFFS2.md.
#
#   testdata/firmware/build-yaffs2.sh      (from any cwd; needs root for mknod)
#
# Debian has no YAFFS2 image builder (no mkyaffs2image package; only the
# extractor unyaffs), so the images are written by tools/mkyaffs2.py, which
# does what mkyaffs2image does, and then checked with Debian's unyaffs (an
# independent implementation): the LE images it can read must unpack to
# exactly the input tree (contents, symlink targets, modes).
#
# The tree is the sample rootfs of README.md section 1 (the committed
# rootfs.tar) plus the three device nodes of FLASHFS.md, timestamps pinned to
# 1425895200. Only the outputs listed in YAFFS2.md are (over)written.
#
# Tools (Debian 12): python3, GNU tar, unyaffs 0.9.7 (apt-get install unyaffs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E=1425895200
export TZ=UTC LC_ALL=C
umask 022

for t in python3 tar mknod unyaffs; do
    command -v "$t" >/dev/null || { echo "build-yaffs2.sh: missing tool: $t" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-yaffs2.sh: needs root (mknod)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/fwaudit-yaffs2.XXXXXX")
trap 'rm -rf "$W"' EXIT
R=$W/rootfs
mkdir -p "$R" "$W/out"

tar -xpf "$HERE/rootfs.tar" -C "$R" --numeric-owner
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 640 "$R/dev/mtdblock0" b 31 0
mknod -m 600 "$R/dev/initctl" p
chown -R 0:0 "$R"
find "$R" -exec touch -h -d "@$E" {} +

MK="python3 $HERE/tools/mkyaffs2.py"
# 2 KiB pages, 64-byte spare, tags at spare offset 0 (mkyaffs2image layout)
$MK --page 2048 --spare 64 "$R" "$W/out/yaffs2-2k.img"
# 4 KiB pages, 128-byte spare, tags behind the bad block marker
$MK --page 4096 --spare 128 --tag-offset 2 "$R" "$W/out/yaffs2-4k-bb.img"
# big-endian, small pages (512+16), header tags as the Linux kernel writes
# them (type and parent in the tags); unyaffs reads neither
$MK --page 512 --spare 16 --big-endian --extra "$R" "$W/out/yaffs2-512-be.img"

# cross-check the little-endian images with unyaffs
for img in yaffs2-2k.img yaffs2-4k-bb.img; do
    X=$W/x-$img
    mkdir -p "$X"
    unyaffs "$W/out/$img" "$X" >/dev/null
    # unyaffs cannot create device nodes as it is run here: compare the rest
    diff <(cd "$R" && find . ! -type c ! -type b ! -type p -printf '%p %y %m %s %l\n' | sort) \
         <(cd "$X" && find . ! -type c ! -type b ! -type p -printf '%p %y %m %s %l\n' | sort)
    diff -r --no-dereference "$R" "$X" 2>&1 | grep -v '^File .* is a \(character\|block\|fifo\)' && exit 1 || true
    echo "unyaffs: $img OK"
done

cp "$W"/out/*.img "$HERE/"
(cd "$HERE" && sha256sum yaffs2-2k.img yaffs2-4k-bb.img yaffs2-512-be.img)
