#!/usr/bin/env python3
"""Assemble a raw NOR flash dump.

  mkflash.py OUT BOOTLOADER UIMAGE SQUASHFS ENV

Layout (size 0x100000 = 1 MiB, erased areas are 0xFF):
  0x000000  boot loader (64 KiB)
  0x010000  uImage (lzma kernel)
  0x080000  SquashFS (xz) root
  0x0F0000  U-Boot environment block (64 KiB, from mkenvimage)
"""
import sys

SIZE = 0x100000
PARTS = [(0x000000, 0x10000), (0x010000, 0x70000), (0x080000, 0x70000), (0x0F0000, 0x10000)]


def main(out, *files):
    img = bytearray(b"\xff" * SIZE)
    for (ofs, maxlen), name in zip(PARTS, files):
        d = open(name, "rb").read()
        if len(d) > maxlen:
            sys.exit(f"{name}: {len(d)} bytes > {maxlen} at {ofs:#x}")
        img[ofs:ofs + len(d)] = d
    open(out, "wb").write(img)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
