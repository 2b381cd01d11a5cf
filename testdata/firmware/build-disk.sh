#!/bin/sh
# Builds the flash/disk fixtures listed in DISK.md: UBI/UBIFS, ext4, Android
# sparse, MBR and GPT images. Needs mtd-utils (mkfs.ubifs, ubinize),
# e2fsprogs (mkfs.ext4) and python3; run as root (mknod for the device
# nodes). Timestamps are fixed, but UBIFS and ext4 carry random UUIDs unless
# told otherwise, so the bytes differ between runs; the file lists do not.
set -eu
cd "$(dirname "$0")"
out=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- the tree ---------------------------------------------------------
t=$tmp/tree
mkdir -p $t/etc $t/bin $t/usr/share/doc/deep/er $t/dev $t/empty
printf 'root:x:0:0:root:/root:/bin/sh\n' > $t/etc/passwd
python3 - "$t" <<'PY'
import random, sys
t = sys.argv[1]
r = random.Random(7)
words = [b'alpha', b'beta', b'gamma', b'delta', b'busybox', b'\x00\x01\x02', b'init', b'mount']
open(t + '/bin/busybox', 'wb').write(b''.join(r.choice(words) for _ in range(9000)))
open(t + '/usr/share/doc/exact4k', 'wb').write(bytes(range(256)) * 16)
PY
ln -s busybox $t/bin/sh
ln $t/bin/busybox $t/bin/busybox-hl
long=target-of-a-long-symlink-that-needs-more-than-sixty-chars.txt
echo hi > $t/usr/share/doc/deep/er/$long
ln -s ../usr/share/doc/deep/er/$long $t/usr/slow-link
: > $t/empty/zero
dd if=/dev/zero of=$t/usr/sparse bs=1 count=0 seek=20000 2>/dev/null
printf 'tail' >> $t/usr/sparse
mknod $t/dev/ttyS0 c 4 64
mknod $t/dev/mtdblock1 b 31 1
mkfifo $t/dev/fifo
chmod 4755 $t/bin/busybox
find $t -exec touch -h -d '2020-01-01 00:00:00 UTC' {} +

# --- UBIFS and UBI ----------------------------------------------------
# 512-byte pages, 16 KiB erase blocks: LEB = 16384 - 512 (EC + VID headers)
mkfs.ubifs -r $t -m 512 -e 15872 -c 64 -x lzo -o $out/ubifs-lzo.img
mkfs.ubifs -r $t -m 512 -e 15872 -c 64 -x zlib -o $out/ubifs-zlib.img
mkfs.ubifs -r $t -m 512 -e 15872 -c 64 -x zstd -o $tmp/ubifs-zstd.img
head -c 3000 /dev/zero | tr '\0' 'K' > $tmp/kernel.bin
cat > $tmp/ubi.ini <<INI
[kernel]
mode=ubi
image=$tmp/kernel.bin
vol_id=0
vol_type=static
vol_name=kernel

[rootfs]
mode=ubi
image=$tmp/ubifs-zstd.img
vol_id=1
vol_type=dynamic
vol_size=1MiB
vol_name=rootfs
vol_flags=autoresize
INI
ubinize -o $out/ubi-zstd.ubi -p 16KiB -m 512 -s 256 -Q 1234 $tmp/ubi.ini

# --- ext4 -------------------------------------------------------------
# 1 MiB, 1 KiB blocks, extents, no journal; fixed UUID and hash seed
E2FSPROGS_FAKE_TIME=1577836800 mkfs.ext4 -q -F -b 1024 -O ^has_journal,extent -N 64 \
	-U 0b5c1e9a-6a0e-4a43-9a47-1d3f0e7e2a11 -E hash_seed=9d2f9a5e-1b1a-4a0e-8f0e-0e6b7c4f1a22 \
	-L fwaudit -d $t $tmp/ext4.img 1M
gzip -9n < $tmp/ext4.img > $out/ext4.img.gz

# --- Android sparse ---------------------------------------------------
# ext4.img as a sparse image (4 KiB blocks): raw chunks for data, zero
# runs alternately as fill (value 0) and don't-care chunks, then a CRC chunk.
python3 - $tmp/ext4.img $out/ext4.simg <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
bs = 4096
assert len(data) % bs == 0
blocks = [data[i:i + bs] for i in range(0, len(data), bs)]
chunks = []
i = 0
zeros = 0
while i < len(blocks):
    j = i
    z = blocks[i] == bytes(bs)
    while j < len(blocks) and (blocks[j] == bytes(bs)) == z:
        j += 1
    n = j - i
    if not z:
        chunks.append(struct.pack('<HHII', 0xCAC1, 0, n, 12 + n * bs) + b''.join(blocks[i:j]))
    elif zeros % 2 == 0:
        chunks.append(struct.pack('<HHII', 0xCAC2, 0, n, 16) + b'\0\0\0\0')
        zeros += 1
    else:
        chunks.append(struct.pack('<HHII', 0xCAC3, 0, n, 12))
        zeros += 1
    i = j
chunks.append(struct.pack('<HHII', 0xCAC4, 0, 0, 16) + struct.pack('<I', zlib.crc32(data)))
hdr = struct.pack('<IHHHHIIII', 0xED26FF3A, 1, 0, 28, 12, bs, len(blocks), len(chunks), 0)
open(sys.argv[2], 'wb').write(hdr + b''.join(chunks))
PY

# --- MBR and GPT disks ------------------------------------------------
# mbr.img: primaries 1 (linux) and 2 (swap), extended 3 holding logical 5
# (fat32) and 6 (linux); each partition holds "part N\n" padded with 'x'.
# gpt.img: protective MBR, GPT with entries "kernel" (linux) and an
# unnamed basic-data partition, and the backup GPT at the end.
python3 - $out/mbr.img $out/gpt.img <<'PY'
import struct, sys, zlib, uuid

def fill(n, sectors):
    b = ('part %d\n' % n).encode()
    return b + b'x' * (sectors * 512 - len(b))

def entry(status, typ, start, count):
    return struct.pack('<B3sB3sII', status, b'\xfe\xff\xff', typ, b'\xfe\xff\xff', start, count)

def table(entries):
    t = b''.join(entries) + bytes(16 * (4 - len(entries)))
    return bytes(446) + t + b'\x55\xaa'

disk = bytearray(64 * 512)
disk[0:512] = table([entry(0x80, 0x83, 2, 8), entry(0, 0x82, 10, 4), entry(0, 0x05, 16, 40)])
disk[2 * 512:10 * 512] = fill(1, 8)
disk[10 * 512:14 * 512] = fill(2, 4)
# EBR 1 at 16: logical 5 at 16+1 (6 sectors), next EBR at ext+10
disk[16 * 512:17 * 512] = table([entry(0, 0x0c, 1, 6), entry(0, 0x05, 10, 20)])
disk[17 * 512:23 * 512] = fill(5, 6)
# EBR 2 at 26: logical 6 at 26+2 (5 sectors)
disk[26 * 512:27 * 512] = table([entry(0, 0x83, 2, 5)])
disk[28 * 512:33 * 512] = fill(6, 5)
open(sys.argv[1], 'wb').write(disk)

sectors = 128
disk = bytearray(sectors * 512)
disk[0:512] = table([entry(0, 0xee, 1, sectors - 1)])
linux = uuid.UUID('0fc63daf-8483-4772-8e79-3d69d8477de4').bytes_le
data = uuid.UUID('ebd0a0a2-b9e5-4433-87c0-68b6b72699c7').bytes_le
def gent(typ, n, first, last, name):
    return typ + uuid.UUID(int=n).bytes_le + struct.pack('<QQQ', first, last, 0) + name.encode('utf-16-le').ljust(72, b'\0')
ents = gent(linux, 1, 34, 49, 'kernel') + gent(data, 2, 50, 59, '')
ents = ents.ljust(128 * 128, b'\0')
disk[34 * 512:50 * 512] = fill(1, 16)
disk[50 * 512:60 * 512] = fill(2, 10)
def header(cur, alt, entlba):
    h = struct.pack('<8sIIIIQQQQ16sQIII', b'EFI PART', 0x10000, 92, 0, 0, cur, alt, 34, sectors - 34,
                    uuid.UUID(int=7).bytes_le, entlba, 128, 128, zlib.crc32(ents))
    h = h[:16] + struct.pack('<I', zlib.crc32(h)) + h[20:]
    return h.ljust(512, b'\0')
disk[512:1024] = header(1, sectors - 1, 2)
disk[1024:34 * 512] = ents
disk[(sectors - 33) * 512:(sectors - 1) * 512] = ents
disk[(sectors - 1) * 512:] = header(sectors - 1, 1, sectors - 33)
open(sys.argv[2], 'wb').write(disk)
PY
