#!/usr/bin/env bash
# Rebuild the evasion fixtures of issue 13 into testdata/hostile/. Each holds
# the same small root file system: /etc/passwd and an /etc/shadow whose root
# account has no password (a critical finding), hidden one way:
#
#   squashfs-sparse.sqfs  SquashFS with a sparse 100 MiB file listed first
#   ext2-sparse.img       ext2 with a sparse 2 GiB file listed first
#   rootfs-zstd-long.tar.zst  tar compressed with zstd --long=31 (2 GiB window)
#   rootfs-xz-1g.tar.xz       tar compressed with xz, 1 GiB dictionary
#   rootfs-lzma-1g.tar.lzma   tar compressed as LZMA-alone, 1 GiB dictionary
#
# The crafted time and work cases are generated in the tests instead
# (internal/hostile; go run ./internal/hostile/gen -out DIR writes them).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SOURCE_DATE_EPOCH=1425895200 TZ=UTC LC_ALL=C
for t in mksquashfs mke2fs zstd xz tar truncate; do
	command -v "$t" >/dev/null || { echo "build.sh: missing tool: $t" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
root=$W/root
mkdir -p "$root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root::16500:0:99999:7:::\n' > "$root/etc/shadow"
chmod 600 "$root/etc/shadow"
tar_root() { tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner -C "$root" -cf - etc; }

sq=$W/sq
cp -a "$root" "$sq"
truncate -s 100M "$sq/aaa-sparse.bin"
mksquashfs "$sq" "$W/squashfs-sparse.sqfs" -noappend -all-root -quiet >/dev/null

ex=$W/ex
cp -a "$root" "$ex"
truncate -s 2G "$ex/aaa-sparse.bin"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext2 -b 1024 -N 64 -U 13131313-1313-1313-1313-131313131313 \
	-E root_owner=0:0,hash_seed=13131313-1313-1313-1313-131313131313 -d "$ex" "$W/ext2-sparse.img" 1M

tar_root | zstd -q --long=31 -c > "$W/rootfs-zstd-long.tar.zst"
tar_root | xz -q --lzma2=dict=1GiB -c > "$W/rootfs-xz-1g.tar.xz"
tar_root | xz -q --format=lzma --lzma1=dict=1GiB -c > "$W/rootfs-lzma-1g.tar.lzma"

cp "$W"/squashfs-sparse.sqfs "$W"/ext2-sparse.img "$W"/rootfs-*.tar.* "$HERE/"
ls -l "$HERE"
