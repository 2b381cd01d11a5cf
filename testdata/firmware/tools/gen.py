#!/usr/bin/env python3
"""Deterministic content generators for the fwaudit firmware fixtures.

Usage:
  gen.py blob OUT        300 KiB (307200 bytes) of mixed text/binary, random.seed(1)
  gen.py busybox OUT     fake /bin/busybox blob (not an ELF) with the BusyBox banner
  gen.py libc OUT        fake uClibc shared object blob
  gen.py tool OUT        fake /usr/bin/tool blob
  gen.py vmlinux OUT     65536-byte raw "vmlinux-like" blob containing the Linux banner
  gen.py bootloader OUT  65536-byte fake boot loader containing the U-Boot version string

Everything is derived from fixed seeds so the output is byte-identical across runs.
"""
import random
import sys

BANNER = (b"Linux version 2.6.31 (builder@host) (gcc version 4.3.3 (GCC) ) "
          b"#1 Mon Mar 9 10:00:00 CST 2015\n")
UBOOT = b"U-Boot 1.1.4 (Mar  9 2015 - 10:00:00)"

WORDS = ("firmware router wireless ethernet config kernel module netfilter "
         "iptables dropbear telnetd httpd uhttpd dnsmasq hostapd wpa_supplicant "
         "busybox uclibc mtd squashfs jffs2 overlay flash partition bootargs "
         "console ttyS0 baudrate 115200 ipaddr serverip netmask gateway lan wan "
         "wlan0 eth0 br-lan vlan admin password login root shadow passwd").split()


def rbytes(r, n):
    return bytes(r.getrandbits(8) for _ in range(n))


def blob():
    r = random.Random(1)
    out = bytearray()
    target = 300 * 1024
    while len(out) < target:
        if r.random() < 0.03:
            out += rbytes(r, r.randint(64, 512))
        else:
            line = " ".join(r.choice(WORDS) for _ in range(r.randint(4, 14)))
            out += line.encode() + b"\n"
    return bytes(out[:target])


def busybox():
    r = random.Random(2)
    out = bytearray(rbytes(r, 512))
    out += b"\0BusyBox v1.24.1 (2016-01-01 00:00:00 UTC) multi-call binary.\n"
    out += (b"BusyBox is copyrighted by many authors between 1998-2015.\n"
            b"Licensed under GPLv2. See source distribution for detailed\n"
            b"copyright notices.\n\0Usage: busybox [function [arguments]...]\n\0")
    out += b"\0".join(w.encode() for w in sorted(set(WORDS))) + b"\0"
    out += rbytes(r, 1024)
    return bytes(out)


def libc():
    r = random.Random(3)
    return (rbytes(r, 256) + b"\0libuClibc-0.9.33.2.so\0uClibc 0.9.33.2\0"
            + b"GLIBC_COMPAT\0" + rbytes(r, 2048))


def tool():
    r = random.Random(4)
    return b"#TOOL\0fwaudit sample tool v0.1\0" + rbytes(r, 700)


def vmlinux():
    r = random.Random(5)
    out = bytearray()
    out += rbytes(r, 4096)                      # fake "code"
    out += b"\0" * 256
    out += BANNER + b"\0"
    out += b"\0" * (16 - len(out) % 16)
    for s in (b"Kernel command line: %s\n", b"console=ttyS0,115200",
              b"root=/dev/mtdblock2 rootfstype=squashfs,jffs2 noinitrd",
              b"VFS: Mounted root (%s filesystem)%s on device %u:%u.\n",
              b"Freeing unused kernel memory: %luk freed\n",
              b"squashfs: version 4.0 (2009/01/31) Phillip Lougher\n"):
        out += s + b"\0"
    out += b"\0" * 8192                         # .bss-like padding
    while len(out) < 65536:
        if r.random() < 0.1:
            out += rbytes(r, 256)
        else:
            out += (" ".join(r.choice(WORDS) for _ in range(8)) + "\0").encode()
    return bytes(out[:65536])


def bootloader():
    r = random.Random(6)
    out = bytearray(b"\xff" * 65536)
    code = rbytes(r, 12288)
    out[0:len(code)] = code
    s = UBOOT + b"\0" + b"bootcmd=bootm 0x9f010000\0bootdelay=1\0baudrate=115200\0"
    out[0x3000:0x3000 + len(s)] = s
    return bytes(out)


GEN = {"blob": blob, "busybox": busybox, "libc": libc, "tool": tool,
       "vmlinux": vmlinux, "bootloader": bootloader}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in GEN:
        sys.exit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(GEN[sys.argv[1]]())
