#!/usr/bin/env bash
# Rebuild every firmware test fixture of fwaudit into testdata/firmware/.
#
#   testdata/firmware/build.sh            (from any cwd; needs no root)
#
# Everything is built in a temp dir and then copied next to this script, so a
# failed run leaves the committed fixtures alone and reruns are idempotent.
# Timestamps are pinned (SOURCE_DATE_EPOCH=1425895200 = 2015-03-09 10:00:00 UTC)
# so a rebuild with the same tool versions gives the same bytes.
# See README.md for what each fixture contains and what tests should expect.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOOLS=$HERE/tools
export SOURCE_DATE_EPOCH=1425895200
export TZ=UTC LC_ALL=C
E=$SOURCE_DATE_EPOCH
umask 022
PY=${PYTHON:-python3}

for t in mksquashfs unsquashfs cpio mkimage mkenvimage dumpimage dtc xz lzma zstd lz4 \
         bzip2 gzip zip tar openssl perl mkfs.jffs2 genext2fs "$PY"; do
    command -v "$t" >/dev/null || { echo "build.sh: missing tool: $t" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/fwaudit-fixtures.XXXXXX")
trap 'rm -rf "$W"' EXIT
OUT=$W/out
mkdir -p "$OUT"
log() { printf '== %s\n' "$*" >&2; }

# Pin all timestamps (files, dirs, symlinks themselves) of a tree.
pin_times() { find "$1" -exec touch -h -d "@$E" {} +; }

###########################################################################
# 0. Shared inputs: config text, kernel blob, passwords
###########################################################################
log "inputs"
cat > "$OUT/data.txt" <<'EOF'
# /etc/config/default.conf - fwaudit sample device configuration
# Generated for test fixtures; every value here is fake.

config system
	option hostname 'fwaudit-router'
	option timezone 'CST-8'
	option zonename 'Asia/Shanghai'
	option log_size '64'
	option conloglevel '8'
	option cronloglevel '8'

config timeserver 'ntp'
	list server '0.pool.ntp.org'
	list server '1.pool.ntp.org'
	option enabled '1'
	option enable_server '0'

config interface 'loopback'
	option ifname 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'lan'
	option ifname 'eth0'
	option type 'bridge'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

config interface 'wan'
	option ifname 'eth1'
	option proto 'pppoe'
	option username 'isp-user@example.net'
	option password 'ppp-secret-123'

config wifi-device 'radio0'
	option type 'mac80211'
	option channel '11'
	option hwmode '11g'
	option path 'platform/ar933x_wmac'
	option htmode 'HT20'

config wifi-iface
	option device 'radio0'
	option network 'lan'
	option mode 'ap'
	option ssid 'FWAUDIT-5A3C'
	option encryption 'psk2'
	option key '12345678'

config dropbear
	option PasswordAuth 'on'
	option RootPasswordAuth 'on'
	option Port '22'

config telnetd
	option enabled '1'
	option port '23'

config uhttpd 'main'
	list listen_http '0.0.0.0:80'
	option home '/www'
	option rfc1918_filter '1'
	option cert '/etc/uhttpd.crt'
	option key '/etc/uhttpd.key'

config snmpd
	option community_ro 'public'
	option community_rw 'private'

config remote_mgmt
	option enabled '1'
	option port '8080'
	option user 'admin'
	option pass 'admin'
EOF
touch -d "@$E" "$OUT/data.txt"

"$PY" "$TOOLS/gen.py" vmlinux "$OUT/vmlinux.bin"
gzip -n -9 -c "$OUT/vmlinux.bin" > "$W/vmlinux.bin.gz"
lzma -9 -c "$OUT/vmlinux.bin" > "$W/vmlinux.bin.lzma"

HASH_ROOT=$(openssl passwd -1 -salt fwaudit1 admin)             # md5crypt "admin"
HASH_SUPPORT=$(openssl passwd -6 -salt fwaudit2 support)        # sha512crypt "support"
HASH_USER=$(openssl passwd -5 -salt fwaudit3 'Qm7#vT9!pLx2$wRz') # sha256crypt, strong
HASH_OLD=$(perl -e 'print crypt("1234","ab")')                  # DES crypt "1234"
HASH_NESTED=$(openssl passwd -1 -salt fwaudit4 password)        # md5crypt "password"
[ "$HASH_OLD" = abWMpd9uBwR.g ] || { echo "unexpected DES crypt: $HASH_OLD" >&2; exit 1; }

###########################################################################
# 1. Sample root filesystem
###########################################################################
log "rootfs"
R=$W/rootfs
mkdir -p "$R"/{bin,dev,etc/init.d,etc/config,lib,root,tmp,usr/bin,usr/share,www}
chmod 0700 "$R/root"
chmod 1777 "$R/tmp"

cat > "$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:*:1:1:daemon:/var:/bin/false
ftp:*:55:55:ftp:/home/ftp:/bin/false
admin:x:1000:1000:admin:/home/admin:/bin/sh
guest::1001:1001::/home/guest:/bin/sh
support:x:1002:1002:support:/home/support:/bin/sh
user:x:1003:1003:user:/home/user:/bin/sh
old:x:1004:1004:old:/home/old:/bin/sh
empty:x:1005:1005:empty:/home/empty:/bin/sh
nobody:*:65534:65534:nobody:/var:/bin/false
EOF
cat > "$R/etc/shadow" <<EOF
root:$HASH_ROOT:16503:0:99999:7:::
daemon:*:16503:0:99999:7:::
ftp:!:16503:0:99999:7:::
admin:!!:16503:0:99999:7:::
support:$HASH_SUPPORT:16503:0:99999:7:::
user:$HASH_USER:16503:0:99999:7:::
old:$HASH_OLD:16503:0:99999:7:::
empty::19000:0:99999:7:::
nobody:*:16503:0:99999:7:::
EOF
chmod 0600 "$R/etc/shadow"
cp -p "$R/etc/shadow" "$R/etc/shadow-"
cat > "$R/etc/banner" <<'EOF'
  _____        __    _   _   _ ____ ___ _____
 |  ___|_      / /_ _| | | | | |  _ \_ _|_   _|
 | |_  \ \ /\ / / _` | | | | | | | | | |  | |
 |  _|  \ V  V / (_| | |_| |_| | |_| | |  | |
 |_|     \_/\_/ \__,_|\___/\___/|____/___| |_|
 fwaudit sample firmware 1.0.0 (r4242), 2015-03-09
EOF
cat > "$R/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# fwaudit sample init script
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
hostname -F /etc/hostname
/usr/sbin/telnetd -l /bin/sh -p 23 &
/usr/sbin/httpd -h /www -p 80 &
echo "system up"
EOF
chmod 0755 "$R/etc/init.d/rcS"
printf 'fwaudit-router\n' > "$R/etc/hostname"
printf '1.0.0\n' > "$R/etc/version"
printf '127.0.0.1 localhost\n' > "$R/etc/hosts"
: > "$R/etc/empty.conf"
cp "$OUT/data.txt" "$R/etc/config/default.conf"
"$PY" "$TOOLS/gen.py" busybox "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
ln -s /bin/busybox "$R/bin/sh"
"$PY" "$TOOLS/gen.py" libc "$R/lib/libuClibc-0.9.33.2.so"
chmod 0755 "$R/lib/libuClibc-0.9.33.2.so"
ln -s libuClibc-0.9.33.2.so "$R/lib/libc.so.0"
"$PY" "$TOOLS/gen.py" tool "$R/usr/bin/tool"
chmod 0755 "$R/usr/bin/tool"
ln "$R/usr/bin/tool" "$R/usr/bin/tool-hl"
"$PY" "$TOOLS/gen.py" blob "$R/usr/share/blob.bin"
cat > "$R/www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>fwaudit router</title></head>
<body><form action="/cgi-bin/login" method="post">
<input name="user" value="admin"><input type="password" name="pass">
<input type="submit" value="Login"></form></body></html>
EOF
printf '<html><body>page with spaces in its name</body></html>\n' > "$R/www/my page.html"
pin_times "$R"

# Device nodes only exist as mksquashfs pseudo files (no root needed).
PSEUDO=$W/pseudo
cat > "$PSEUDO" <<'EOF'
/dev/console c 600 0 0 5 1
/dev/mtdblock0 b 640 0 0 31 0
/dev/initctl i 600 0 0 f
EOF
"$PY" "$TOOLS/manifest.py" "$R" "$PSEUDO" > "$OUT/rootfs.manifest"

###########################################################################
# 2. SquashFS images
###########################################################################
SQ=(-noappend -all-root -all-time "$E" -mkfs-time "$E" -no-xattrs -processors 1
    -no-progress -quiet -pf "$PSEUDO")
sq() { local out=$1; shift; log "squashfs $out"; env -u SOURCE_DATE_EPOCH mksquashfs "$R" "$OUT/$out" "${SQ[@]}" "$@" >/dev/null; }
sq sqfs-gzip.img          -comp gzip
sq sqfs-lzma.img          -comp lzma
sq sqfs-xz.img            -comp xz
sq sqfs-xz-bcj-x86.img    -comp xz -Xbcj x86
sq sqfs-xz-bcj-arm.img    -comp xz -Xbcj arm
sq sqfs-lzo.img           -comp lzo -b 131072
sq sqfs-lz4.img           -comp lz4
sq sqfs-lz4-hc.img        -comp lz4 -Xhc
sq sqfs-zstd.img          -comp zstd
sq sqfs-nofrag.img        -comp gzip -no-fragments
sq sqfs-b4096.img         -comp gzip -b 4096
sq sqfs-uncompressed.img  -comp gzip -noI -noD -noF -noX

###########################################################################
# 3. cpio, tar, zip of the rootfs tree (no device nodes)
###########################################################################
log "cpio/tar/zip"
list_tree() { (cd "$R" && find . -mindepth 1 -printf '%P\n' | sort); }
for fmt in newc crc odc; do
    list_tree | (cd "$R" && cpio -o --quiet -H "$fmt" -R 0:0 --reproducible) > "$OUT/cpio-$fmt.cpio"
done
gzip -n -9 -c "$OUT/cpio-newc.cpio" > "$OUT/initramfs.cpio.gz"

tar -C "$R" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
    --mtime="@$E" -cf "$OUT/rootfs.tar" .
gzip -n -9 -c "$OUT/rootfs.tar" > "$OUT/rootfs.tar.gz"
xz -9 -T1 -c "$OUT/rootfs.tar" > "$OUT/rootfs.tar.xz"
bzip2 -9 -c "$OUT/rootfs.tar" > "$OUT/rootfs.tar.bz2"
zstd -q -19 -c "$OUT/rootfs.tar" > "$OUT/rootfs.tar.zst"
list_tree | (cd "$R" && zip -q -X -y -@ "$W/rootfs.zip")
mv "$W/rootfs.zip" "$OUT/rootfs.zip"

###########################################################################
# 4. Single-stream compressors of data.txt
###########################################################################
log "single streams"
D=$OUT/data.txt
gzip -n -9 -c "$D" > "$OUT/data.gz"
xz -9 -T1 -c "$D" > "$OUT/data.xz"
lzma -9 -c "$D" > "$OUT/data.lzma"
bzip2 -9 -c "$D" > "$OUT/data.bz2"
zstd -q -19 -c "$D" > "$OUT/data.zst"
lz4 -q -9 -c "$D" > "$OUT/data.lz4"

###########################################################################
# 5./6. U-Boot legacy uImages and FIT
###########################################################################
log "uImage/FIT"
MK=(-A mips -O linux -a 0x80060000 -e 0x80060000 -n "Linux-2.6.31")
mkimage "${MK[@]}" -T kernel -C gzip -d "$W/vmlinux.bin.gz"   "$OUT/uimage-gzip.bin" >/dev/null
mkimage "${MK[@]}" -T kernel -C lzma -d "$W/vmlinux.bin.lzma" "$OUT/uimage-lzma.bin" >/dev/null
mkimage -A mips -O linux -T multi -C gzip -a 0x80060000 -e 0x80060000 -n "Linux-2.6.31-multi" \
    -d "$W/vmlinux.bin.gz:$OUT/initramfs.cpio.gz" "$OUT/uimage-multi.bin" >/dev/null

cat > "$W/board.dts" <<'EOF'
/dts-v1/;
/ {
	model = "fwaudit test board";
	compatible = "fwaudit,test-board", "brcm,bcm2835";
	#address-cells = <1>;
	#size-cells = <1>;
	chosen {
		bootargs = "console=ttyAMA0,115200 root=/dev/ram0 rdinit=/init";
	};
	memory@0 {
		device_type = "memory";
		reg = <0x0 0x4000000>;
	};
	serial@20201000 {
		compatible = "arm,pl011", "arm,primecell";
		reg = <0x20201000 0x1000>;
	};
};
EOF
dtc -q -I dts -O dtb -o "$OUT/board.dtb" "$W/board.dts"
cp "$OUT/initramfs.cpio.gz" "$OUT/board.dtb" "$W/"
cat > "$W/fit.its" <<'EOF'
/dts-v1/;
/ {
	description = "fwaudit test FIT image";
	#address-cells = <1>;
	images {
		kernel-1 {
			description = "Linux 2.6.31";
			data = /incbin/("vmlinux.bin.gz");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "gzip";
			load = <0x80008000>;
			entry = <0x80008000>;
			hash-1 { algo = "crc32"; };
			hash-2 { algo = "sha1"; };
		};
		ramdisk-1 {
			description = "initramfs (cpio newc, gzip)";
			data = /incbin/("initramfs.cpio.gz");
			type = "ramdisk";
			arch = "arm";
			os = "linux";
			compression = "none";
			load = <0x81000000>;
			entry = <0x81000000>;
			hash-1 { algo = "sha256"; };
		};
		fdt-1 {
			description = "fwaudit test board";
			data = /incbin/("board.dtb");
			type = "flat_dt";
			arch = "arm";
			compression = "none";
			hash-1 { algo = "crc32"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			description = "Boot Linux with initramfs and fdt";
			kernel = "kernel-1";
			ramdisk = "ramdisk-1";
			fdt = "fdt-1";
		};
	};
};
EOF
(cd "$W" && mkimage -f fit.its "$OUT/fit.itb" >/dev/null)

###########################################################################
# 7./8. TRX and TP-Link containers
###########################################################################
log "trx/tplink"
"$PY" "$TOOLS/mktrx.py" "$OUT/trx.bin" "$W/vmlinux.bin.lzma" "$OUT/sqfs-xz.img" >&2
"$PY" "$TOOLS/mktplink.py" "$OUT/tplink.bin" "$W/vmlinux.bin.lzma" "$OUT/sqfs-xz.img" >&2

###########################################################################
# 9. Linux kernel images
###########################################################################
log "kernels"
"$PY" "$TOOLS/mkkernel.py" zimage "$W/vmlinux.bin.gz" "$OUT/zImage-arm.bin"
# x86 payload like the kernel's cmd_lzma: "lzma -9" stream + size_append (u32 LE).
{ lzma -9 -c "$OUT/vmlinux.bin"; perl -e 'print pack("V", -s $ARGV[0])' "$OUT/vmlinux.bin"; } \
    > "$W/piggy.lzma"
"$PY" "$TOOLS/mkkernel.py" bzimage "$W/piggy.lzma" "$OUT/bzImage-x86.bin"

###########################################################################
# 10. Raw flash dump
###########################################################################
log "flash"
"$PY" "$TOOLS/gen.py" bootloader "$W/uboot.bin"
cat > "$W/env.txt" <<'EOF'
bootargs=console=ttyS0,115200 root=31:2 rootfstype=squashfs init=/sbin/init mtdparts=spi0.0:64k(u-boot)ro,448k(kernel),448k(rootfs),64k(u-boot-env)
bootcmd=bootm 0x9f010000
bootdelay=1
baudrate=115200
ethaddr=00:aa:bb:cc:dd:ee
ipaddr=192.168.1.1
serverip=192.168.1.100
EOF
mkenvimage -s 0x10000 -o "$W/env.bin" "$W/env.txt"
"$PY" "$TOOLS/mkflash.py" "$OUT/flash.bin" "$W/uboot.bin" "$OUT/uimage-lzma.bin" \
    "$OUT/sqfs-xz.img" "$W/env.bin"

###########################################################################
# 11. Nested: tar.gz > squashfs (gzip) > cpio.gz > /etc/shadow
###########################################################################
log "nested"
N=$W/nested
mkdir -p "$N/initrd/etc" "$N/initrd/bin" "$N/sqfs/boot" "$N/sqfs/etc" "$N/tar/firmware"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$N/initrd/etc/passwd"
printf 'root:%s:16503:0:99999:7:::\n' "$HASH_NESTED" > "$N/initrd/etc/shadow"
chmod 0600 "$N/initrd/etc/shadow"
printf '#!/bin/sh\nexec /bin/sh\n' > "$N/initrd/init"
chmod 0755 "$N/initrd/init"
pin_times "$N/initrd"
(cd "$N/initrd" && find . -mindepth 1 -printf '%P\n' | sort |
    cpio -o --quiet -H newc -R 0:0 --reproducible) | gzip -n -9 > "$N/sqfs/boot/initramfs.cpio.gz"
printf 'nested-1.0\n' > "$N/sqfs/etc/version"
pin_times "$N/sqfs"
env -u SOURCE_DATE_EPOCH mksquashfs "$N/sqfs" "$N/tar/firmware/rootfs.squashfs" -comp gzip -noappend -all-root \
    -all-time "$E" -mkfs-time "$E" -no-xattrs -processors 1 -no-progress -quiet >/dev/null
printf 'fwaudit nested fixture: firmware/rootfs.squashfs\n' > "$N/tar/firmware/README.txt"
pin_times "$N/tar"
tar -C "$N/tar" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
    --mtime="@$E" -cf - firmware | gzip -n -9 > "$OUT/nested.tar.gz"

###########################################################################
# 12. Hostile inputs
###########################################################################
log "hostile archives"
"$PY" "$TOOLS/hostile.py" "$OUT"

log "bombs (about a minute)"
head -c 1G /dev/zero | gzip -n -9 > "$OUT/bomb.gz"
head -c 2G /dev/zero | xz -6 -T1 > "$OUT/bomb.xz"
printf 'fwaudit nest-bomb payload: 20 levels of gzip\n' > "$W/nest.0"
for i in $(seq 1 20); do gzip -n -9 -c "$W/nest.$((i - 1))" > "$W/nest.$i"; done
cp "$W/nest.20" "$OUT/nest-bomb.gz"

log "broken squashfs"
"$PY" "$TOOLS/sqfspatch.py" truncate      "$OUT/sqfs-gzip.img" "$OUT/sqfs-truncated.img" 60 >&2
"$PY" "$TOOLS/sqfspatch.py" corrupt-data  "$OUT/sqfs-gzip.img" "$OUT/sqfs-corrupt.img" >&2
"$PY" "$TOOLS/sqfspatch.py" corrupt-table "$OUT/sqfs-gzip.img" "$OUT/sqfs-corrupt-table.img" >&2
L=$W/loop
mkdir -p "$L/a/b"
printf 'inside a\n' > "$L/a/file.txt"
pin_times "$L"
env -u SOURCE_DATE_EPOCH mksquashfs "$L" "$W/loop.img" -comp gzip -noI -noD -noF -noX -noappend -all-root \
    -all-time "$E" -mkfs-time "$E" -no-xattrs -processors 1 -no-progress -quiet >/dev/null
"$PY" "$TOOLS/sqfspatch.py" loop "$W/loop.img" "$OUT/sqfs-loop.img" >&2

head -c $(( $(stat -c %s "$W/vmlinux.bin.gz") / 2 )) "$W/vmlinux.bin.gz" > "$OUT/gzip-truncated.gz"
xz -9 -T1 -c "$OUT/vmlinux.bin" > "$W/vmlinux.bin.xz"
head -c $(( $(stat -c %s "$W/vmlinux.bin.xz") / 2 )) "$W/vmlinux.bin.xz" > "$OUT/xz-truncated.xz"

###########################################################################
# 13. Extra filesystems (optional in the brief)
###########################################################################
log "jffs2/ext2"
# No device table here: mkfs.jffs2 and genext2fs stamp device-table nodes with
# the current time (not reproducible), so these images hold only the plain tree.
mkfs.jffs2 -r "$R" -o "$OUT/jffs2-le.img" -l -e 0x10000 -n -U
mkfs.jffs2 -r "$R" -o "$OUT/jffs2-be.img" -b -e 0x10000 -n -U
genext2fs -B 1024 -b 420 -N 64 -d "$R" -U "$OUT/ext2.img"

###########################################################################
# Install
###########################################################################
log "install into $HERE"
chmod 0644 "$OUT"/*
cp "$OUT"/* "$HERE/"
log "done: $(ls "$OUT" | wc -l) files, $(du -ch "$OUT" | tail -1 | cut -f1) total"
