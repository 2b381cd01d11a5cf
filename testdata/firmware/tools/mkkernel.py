#!/usr/bin/env python3
"""Build fake (but structurally faithful) Linux kernel images.

  mkkernel.py zimage  PAYLOAD.gz  OUT   ARM zImage
  mkkernel.py bzimage PAYLOAD     OUT   x86 bzImage (PAYLOAD = compressed kernel,
                                        size_append'ed, see README)

ARM zImage layout (all little-endian, as in arch/arm/boot/compressed/head.S):
  0x00-0x1F  8 x 0xE1A00000 ("mov r0, r0" NOPs)
  0x20       0xEA000003      ("b 1f", branch over the magic words)
  0x24       0x016F2818      zImage magic
  0x28       0x00000000      start address (0 = position independent)
  0x2C       end             = total file size (end - start = zImage length)
  0x30       0x04030201      endianness marker
  0x34-0x3FF pseudo-random "decompressor code" bytes
  0x400      gzip stream (PAYLOAD), unchanged
  after it   0x40 bytes of pseudo-random trailing "code/GOT", then zero pad to 4 bytes

x86 bzImage layout (Documentation/x86/boot.rst, protocol 2.10):
  0x000      boot sector stub + "Direct booting from floppy..." message
  0x1F1 u8   setup_sects = 4      -> real-mode setup = (4+1)*512 = 0xA00 bytes
  0x1F4 u32  syssize             = protected-mode size / 16 (rounded up)
  0x1FE u16  boot_flag = 0xAA55   (bytes 55 AA at 510)
  0x200      jump: EB 66
  0x202      "HdrS"
  0x206 u16  version = 0x020A
  0x20E u16  kernel_version = 0x0200 -> version string at 0x200+0x200 = 0x400
  0x211 u8   loadflags = 0x01 (LOADED_HIGH)
  0x214 u32  code32_start = 0x00100000
  0x22C u32  initrd_addr_max = 0x7FFFFFFF
  0x230 u32  kernel_alignment = 0x01000000
  0x234 u8   relocatable_kernel = 1
  0x238 u32  cmdline_size = 2047
  0x248 u32  payload_offset = 0x300 (relative to the protected-mode code, which
             starts at file offset (setup_sects+1)*512 = 0xA00) -> file offset 0xD00
  0x24C u32  payload_length = len(PAYLOAD)
  0x260 u32  init_size = 0x00400000
  0x400      "2.6.31 (builder@host) #1 Mon Mar 9 10:00:00 CST 2015\0"
  0xA00      protected-mode code: 0x300 pseudo-random stub bytes, PAYLOAD,
             0x80 pseudo-random trailing bytes, zero pad to 16 bytes.
"""
import random
import struct
import sys


def rb(r, n):
    return bytes(r.getrandbits(8) for _ in range(n))


def zimage(payload):
    r = random.Random(7)
    hdr = struct.pack("<8I", *([0xE1A00000] * 8))
    hdr += struct.pack("<I", 0xEA000003)
    body = bytearray(hdr + struct.pack("<4I", 0x016F2818, 0, 0, 0x04030201))
    body += rb(r, 0x400 - len(body))
    body += payload
    body += rb(r, 0x40)
    body += b"\0" * (-len(body) % 4)
    struct.pack_into("<I", body, 0x2C, len(body))
    return bytes(body)


def bzimage(payload):
    r = random.Random(8)
    setup_sects = 4
    setup = bytearray(512 * (setup_sects + 1))
    # boot sector: ljmp + message, like arch/x86/boot/header.S
    setup[0:5] = b"\xea\x05\x00\xc0\x07"
    msg = (b"Direct booting from floppy is no longer supported.\r\n"
           b"Please use a boot loader program instead.\r\n\n"
           b"Remove disk and press any key to reboot . . .\r\n\0")
    setup[0x20:0x20 + len(msg)] = msg
    setup[0x1F1] = setup_sects
    struct.pack_into("<H", setup, 0x1FE, 0xAA55)
    setup[0x200:0x202] = b"\xeb\x66"
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x020A)
    struct.pack_into("<H", setup, 0x20C, 0x1000)        # start_sys_seg
    struct.pack_into("<H", setup, 0x20E, 0x0200)        # kernel_version
    setup[0x211] = 0x01                                  # LOADED_HIGH
    struct.pack_into("<H", setup, 0x212, 0x8000)        # setup_move_size
    struct.pack_into("<I", setup, 0x214, 0x00100000)    # code32_start
    struct.pack_into("<I", setup, 0x22C, 0x7FFFFFFF)    # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x01000000)    # kernel_alignment
    setup[0x234] = 1                                     # relocatable_kernel
    struct.pack_into("<I", setup, 0x238, 2047)          # cmdline_size
    payload_offset = 0x300
    struct.pack_into("<I", setup, 0x248, payload_offset)
    struct.pack_into("<I", setup, 0x24C, len(payload))
    struct.pack_into("<I", setup, 0x260, 0x00400000)    # init_size
    ver = b"2.6.31 (builder@host) #1 Mon Mar 9 10:00:00 CST 2015\0"
    setup[0x400:0x400 + len(ver)] = ver
    setup[0x268:0x300] = rb(r, 0x300 - 0x268)           # "setup code"
    setup[0x500:0x900] = rb(r, 0x400)
    pm = bytearray(rb(r, payload_offset)) + payload + rb(r, 0x80)
    pm += b"\0" * (-len(pm) % 16)
    struct.pack_into("<I", setup, 0x1F4, len(pm) // 16)  # syssize
    return bytes(setup + pm)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("zimage", "bzimage"):
        sys.exit(__doc__)
    data = open(sys.argv[2], "rb").read()
    out = zimage(data) if sys.argv[1] == "zimage" else bzimage(data)
    open(sys.argv[3], "wb").write(out)
