#!/usr/bin/env python3
"""Build a TP-Link v1 firmware image exactly like OpenWrt's mktplinkfw with
   -H 0x07410001 -W 1 -F 4Mlzma -a 0x10000 -s  (TL-WR741ND v1 id, 4Mlzma layout,
   rootfs aligned to 64 KiB, padding stripped).

  mktplink.py OUT KERNEL ROOTFS

Header: 0x200 bytes, all integers BIG-endian (struct fw_header of mktplinkfw.c):
  0x00 u32  version      0x01000000 (HEADER_VERSION_V1)
  0x04 [24] vendor_name  "TP-LINK Technologies" (NUL padded)
  0x1C [36] fw_version   "ver. 1.0" (NUL padded)
  0x40 u32  hw_id        0x07410001
  0x44 u32  hw_rev       1
  0x48 u32  unk1         0
  0x4C [16] md5sum1      MD5 (see below)
  0x5C u32  unk2         0
  0x60 [16] md5sum2      zero
  0x70 u32  unk3         0
  0x74 u32  kernel_la    0x80060000
  0x78 u32  kernel_ep    0x80060000
  0x7C u32  fw_length    0x003C0000 (layout fw_max_len, NOT the file size: -s strips padding)
  0x80 u32  kernel_ofs   0x200
  0x84 u32  kernel_len   ALIGN(0x200 + len(kernel), 0x10000) - 0x200 (includes 0xFF pad)
  0x88 u32  rootfs_ofs   0x200 + kernel_len (64 KiB aligned)
  0x8C u32  rootfs_len   len(rootfs)
  0x90 u32  boot_ofs     0
  0x94 u32  boot_len     0
  0x98 ..   pad (zero) up to 0x200
Body: kernel, 0xFF padding to rootfs_ofs, rootfs. File size = rootfs_ofs + rootfs_len.

MD5: put md5salt_normal (dc d7 3a a5 c3 95 98 fb dd f9 e7 f4 0e ae 47 38) into
md5sum1, compute MD5 over the whole file (header + body), store the digest in md5sum1.
To verify: replace md5sum1 by the salt, MD5 the file, compare.
"""
import hashlib
import struct
import sys

SALT = bytes.fromhex("dcd73aa5c39598fbddf9e7f40eae4738")
HDR = 0x200


def main(out, kernel, rootfs):
    k = open(kernel, "rb").read()
    r = open(rootfs, "rb").read()
    align = 0x10000
    kernel_len = ((HDR + len(k) + align - 1) & ~(align - 1)) - HDR
    rootfs_ofs = HDR + kernel_len
    buf = bytearray(b"\xff" * (rootfs_ofs + len(r)))
    buf[0:HDR] = bytes(HDR)
    buf[HDR:HDR + len(k)] = k
    buf[rootfs_ofs:] = r
    struct.pack_into(">I24s36sIII16sI16sIIIIIIIIII", buf, 0,
                     0x01000000, b"TP-LINK Technologies", b"ver. 1.0",
                     0x07410001, 1, 0, SALT, 0, bytes(16), 0,
                     0x80060000, 0x80060000, 0x3C0000,
                     HDR, kernel_len, rootfs_ofs, len(r), 0, 0)
    digest = hashlib.md5(bytes(buf)).digest()
    buf[0x4C:0x5C] = digest
    open(out, "wb").write(buf)
    print(f"tplink: size={len(buf):#x} kernel@{HDR:#x}+{kernel_len:#x} "
          f"rootfs@{rootfs_ofs:#x}+{len(r):#x} md5={digest.hex()}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
