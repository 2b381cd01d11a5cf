#!/usr/bin/env bash
# Build the flash file system fixtures of testdata/firmware (JFFS2 variants,
# cramfs, romfs) described in FLASHFS.md.
#
#   testdata/firmware/build-flashfs.sh      (from any cwd; needs root for mknod)
#
# The tree is the sample rootfs of README.md section 1, unpacked from the
# committed rootfs.tar, plus the three device nodes of the SquashFS pseudo
# file (so these images hold all 35 lines of rootfs.manifest). Timestamps are
# pinned to 1425895200 (2015-03-09 10:00:00 UTC); cramfs and romfs store
# none. Only the outputs listed in FLASHFS.md are (over)written.
#
# Tools (Debian 12): mtd-utils 2.1.5 (mkfs.jffs2), util-linux 2.38.1
# (mkfs.cramfs), genromfs 0.5.2, GNU tar.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E=1425895200
export TZ=UTC LC_ALL=C
umask 022

for t in mkfs.jffs2 mkfs.cramfs genromfs tar mknod; do
    command -v "$t" >/dev/null || { echo "build-flashfs.sh: missing tool: $t" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-flashfs.sh: needs root (mknod)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/fwaudit-flashfs.XXXXXX")
trap 'rm -rf "$W"' EXIT
OUT=$W/out
R=$W/rootfs
mkdir -p "$OUT" "$R"

# the rootfs (modes, sticky /tmp, hard link, symlinks kept) + device nodes
tar -xpf "$HERE/rootfs.tar" -C "$R" --numeric-owner
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 640 "$R/dev/mtdblock0" b 31 0
mknod -m 600 "$R/dev/initctl" p
chown -R 0:0 "$R"
find "$R" -exec touch -h -d "@$E" {} +

# JFFS2 with the compressors the committed jffs2-le/-be.img do not use:
#  - LZO only (lzo is off by default), little-endian, 8 KiB erase blocks,
#    padded with 0xFF to the end of the last erase block
#  - rtime only (zlib off; rtime or none per node), big-endian, 16 KiB blocks
mkfs.jffs2 -r "$R" -o "$OUT/jffs2-lzo.img" -l -e 0x2000 -p -n -U -X lzo -x zlib -x rtime
mkfs.jffs2 -r "$R" -o "$OUT/jffs2-rtime-be.img" -b -e 0x4000 -n -U -x zlib

# cramfs (v2, zlib, 4 KiB blocks) in both byte orders
mkfs.cramfs -N little -n fwaudit-le "$R" "$OUT/cramfs-le.img" >/dev/null
mkfs.cramfs -N big -n fwaudit-be "$R" "$OUT/cramfs-be.img" >/dev/null

# cramfs with explicit holes (-z): a sparse file of zero pages around text
H=$W/holes
mkdir -p "$H"
{ head -c 8192 /dev/zero; printf 'middle\n'; head -c 12288 /dev/zero; printf 'end\n'; } > "$H/sparse.bin"
touch -d "@$E" "$H/sparse.bin" "$H"
mkfs.cramfs -N little -z -n fwaudit-holes "$H" "$OUT/cramfs-holes.img" >/dev/null

# romfs
genromfs -d "$R" -V fwaudit -f "$OUT/romfs.img"

for f in "$OUT"/*; do
    cp "$f" "$HERE/"
done
(cd "$HERE" && sha256sum jffs2-lzo.img jffs2-rtime-be.img cramfs-le.img cramfs-be.img cramfs-holes.img romfs.img)
