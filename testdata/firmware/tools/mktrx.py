#!/usr/bin/env python3
"""Build a Broadcom TRX v1 container (like OpenWrt's trx tool).

  mktrx.py OUT KERNEL ROOTFS

Header (28 bytes, little-endian):
  0x00 u32 magic        "HDR0" (0x30524448)
  0x04 u32 len          total length of the image incl. header (padded to 4 bytes)
  0x08 u32 crc32        CRC-32 (poly 0xEDB88320, init 0xFFFFFFFF, NO final xor)
                        over bytes [12, len); i.e. crc32 = zlib.crc32(data) ^ 0xFFFFFFFF
  0x0C u32 flag_version flags in bits 0-15 (0), version in bits 16-31 (1) -> 0x00010000
  0x10 u32 offsets[0]   kernel partition offset   = 28 (0x1C)
  0x14 u32 offsets[1]   rootfs partition offset   = kernel end rounded up to 0x400
  0x18 u32 offsets[2]   0 (unused)
Gaps are zero-filled.
"""
import struct
import sys
import zlib

HDR_LEN = 28


def main(out, kernel, rootfs):
    k = open(kernel, "rb").read()
    rfs = open(rootfs, "rb").read()
    img = bytearray(HDR_LEN) + k
    img += b"\0" * (-len(img) % 0x400)
    rootfs_ofs = len(img)
    img += rfs
    img += b"\0" * (-len(img) % 4)
    struct.pack_into("<4sIIIIII", img, 0, b"HDR0", len(img), 0, 0x00010000,
                     HDR_LEN, rootfs_ofs, 0)
    crc = zlib.crc32(bytes(img[12:])) ^ 0xFFFFFFFF
    struct.pack_into("<I", img, 8, crc)
    open(out, "wb").write(img)
    print(f"trx: len={len(img):#x} crc32={crc:#010x} kernel@{HDR_LEN:#x}+{len(k):#x} "
          f"rootfs@{rootfs_ofs:#x}+{len(rfs):#x}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
