#!/usr/bin/env bash
# Build the lzop fixtures of testdata/firmware with the real lzop tool.
#
#   testdata/firmware/build-lzop.sh      (from any cwd; needs no root)
#
#   data.lzo        lzop -9 of data.txt (the file, so its name and pinned
#                   mtime 1425895200 are in the header; Adler-32 checksums)
#   data-crc.lzo    lzop -1 --crc32 of data.txt (CRC-32 checksums, LZO1X_1)
#   uimage-lzo.bin  a U-Boot legacy kernel uImage (IH_COMP_LZO) whose
#                   payload is data.lzo
#
# Tools (Debian 12): lzop 1.04 (apt-get install lzop), u-boot-tools
# (mkimage). data.txt is the committed fixture of build.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=1425895200
E=$SOURCE_DATE_EPOCH
umask 022

for t in lzop mkimage; do
    command -v "$t" >/dev/null || { echo "build-lzop.sh: missing tool: $t (apt-get install lzop u-boot-tools)" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/fwaudit-lzop.XXXXXX")
trap 'rm -rf "$W"' EXIT
cp "$HERE/data.txt" "$W/data.txt"
touch -d "@$E" "$W/data.txt"
(cd "$W" && lzop -9 -c data.txt > data.lzo && lzop -1 --crc32 -c data.txt > data-crc.lzo)
mkimage -A mips -O linux -T kernel -C lzo -a 0x80060000 -e 0x80060000 -n "Linux-lzo" \
    -d "$W/data.lzo" "$W/uimage-lzo.bin" >/dev/null
cp "$W/data.lzo" "$W/data-crc.lzo" "$W/uimage-lzo.bin" "$HERE/"
(cd "$HERE" && sha256sum data.lzo data-crc.lzo uimage-lzo.bin)
