#!/usr/bin/env bash
# Build the recall fixtures of testdata/firmware (RECALL.md): a vendor update
# zip whose firmware is a headerless HG532e-style .bin, a CGI program with a
# hard-coded password, a raw flash dump starting with a U-Boot 2013.07 boot
# loader, and encrypted vendor containers.
#
#   testdata/firmware/build-recall.sh     (from any cwd; no root needed)
#
# Tools (Debian 12): gcc 12.2 (native x86-64), squashfs-tools 4.5.1
# (mksquashfs -comp lzma), xz-utils 5.4.1 (lzma), Info-ZIP zip 3.0,
# openssl 3.0, python3 (standard library). Timestamps are pinned to
# 1425895200 (2015-03-09 10:00:00 UTC). Only the outputs listed in
# RECALL.md are (over)written.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E=1425895200
export TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=$E
umask 022
PY=${PYTHON:-python3}

for t in gcc strip mksquashfs lzma zip openssl xxd "$PY"; do
    command -v "$t" >/dev/null || { echo "build-recall.sh: missing tool: $t" >&2; exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/fwaudit-recall.XXXXXX")
trap 'rm -rf "$W"' EXIT
OUT=$W/out
mkdir -p "$OUT"
pin() { find "$1" -exec touch -h -d "@$E" {} +; }

###########################################################################
# 1. login.cgi: a CGI that compares the submitted password with a literal
###########################################################################
cat > "$W/login.c" <<'EOF'
/* fwaudit fixture: a CGI login check with a hard-coded password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char user[64] = "", pass[64] = "";
    const char *q = getenv("QUERY_STRING");
    if (q)
        sscanf(q, "username=%63[^&]&password=%63s", user, pass);
    printf("Content-Type: text/html\r\n\r\n");
    if (strcmp(user, "admin") == 0 && strcmp(pass, "Hw@Sup3rAdm1n") == 0) {
        puts("<p>login ok</p>");
        return 0;
    }
    puts("<p>invalid username or passwd</p>");
    return 1;
}
EOF
# the same program reading the password from a file: no literal to report
cat > "$W/login-ok.c" <<'EOF'
/* fwaudit fixture: a CGI login check against a per-device password file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char user[64] = "", pass[64] = "", want[64] = "";
    const char *q = getenv("QUERY_STRING");
    FILE *f = fopen("/var/passwd.web", "r");
    if (q)
        sscanf(q, "username=%63[^&]&password=%63s", user, pass);
    if (f) {
        if (!fgets(want, sizeof want, f)) want[0] = 0;
        fclose(f);
        want[strcspn(want, "\n")] = 0;
    }
    printf("Content-Type: text/html\r\n\r\n");
    if (want[0] && strcmp(user, "admin") == 0 && strcmp(pass, want) == 0) {
        puts("<p>login ok</p>");
        return 0;
    }
    puts("<p>invalid username or passwd</p>");
    return 1;
}
EOF
gcc -Os -fno-asynchronous-unwind-tables -Wl,--build-id=none -o "$OUT/login.cgi" "$W/login.c"
gcc -Os -fno-asynchronous-unwind-tables -Wl,--build-id=none -o "$OUT/login-file.cgi" "$W/login-ok.c"
strip -s "$OUT/login.cgi" "$OUT/login-file.cgi"

###########################################################################
# 2. hg532e-update.zip: update package = headerless .bin + a note
###########################################################################
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/www/cgi-bin"
printf 'BusyBox v1.12.1 (2014-03-07 11:20:01 CST) multi-call binary\n' > "$R/bin/busybox.txt"
printf 'root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home:/bin/sh\n' > "$R/etc/passwd"
printf 'root:$1$fwaudit4$syvAx786rCopmuJGuS.pc1:16503:0:99999:7:::\n' > "$R/etc/shadow"
printf 'HG532e V100R001C02B017\n' > "$R/etc/version"
cp "$OUT/login.cgi" "$R/www/cgi-bin/login.cgi"
chmod 600 "$R/etc/shadow"
pin "$R"
mksquashfs "$R" "$W/rootfs.sqfs" -comp lzma -all-root -noappend -no-progress -quiet >/dev/null
lzma -9 -c "$HERE/vmlinux.bin" > "$W/kernel.lzma"
"$PY" - "$W/kernel.lzma" "$W/rootfs.sqfs" "$W/HG532eV100R001C02B017_upgrade_main.bin" <<'EOF'
import sys
kernel, rootfs, out = sys.argv[1:]
K, S = 0x21a8, 0xecef9          # the offsets of a Huawei HG532e update .bin
k = open(kernel, "rb").read()
s = open(rootfs, "rb").read()
# a vendor header no extractor knows: product strings, then zeros
hdr = bytearray(K)
hdr[0:32] = b"HWNP-STYLE-HEADER HG532e\0\0\0\0\0\0\0\0"
hdr[0x100:0x100+24] = b"V100R001C02B017SP01\0\0\0\0\0"
assert len(k) < S - K
img = bytes(hdr) + k + b"\xff" * (S - K - len(k)) + s
img += b"\xff" * (-len(img) % 0x10000)
open(out, "wb").write(img)
EOF
cat > "$W/Upgrade-Notes.txt" <<'EOF'
HG532e firmware upgrade V100R001C02B017

1. Connect a PC to a LAN port and open http://192.168.1.1 in a browser.
2. Log in to the web management page:
     User name: admin
     Password:  Hg532e@Adm1n
3. Open Maintenance > Device > Upgrade and select the .bin file.
Do not power off the device during the upgrade.
EOF
pin "$W"
(cd "$W" && zip -X -q -9 "$OUT/hg532e-update.zip" HG532eV100R001C02B017_upgrade_main.bin Upgrade-Notes.txt)

###########################################################################
# 3. flash-uboot2013.bin: raw flash dump, U-Boot 2013.07 at offset 0
###########################################################################
"$PY" - "$OUT/flash-uboot2013.bin" "$HERE/sqfs-xz.img" <<'EOF'
import random, sys
out, sq = sys.argv[1:]
r = random.Random(2013)
boot = bytearray(r.getrandbits(8) for _ in range(0x6000))   # "code"
banner = b"\0U-Boot 2013.07 (Oct 21 2014 - 14:35:02)\0"
boot[0x4a10:0x4a10+len(banner)] = banner
boot[0x5000:0x5000+40] = b"bootcmd=bootm 0x9f020000\0bootdelay=1\0\0\0"
boot += b"\xff" * (0x20000 - len(boot))
img = bytes(boot) + open(sq, "rb").read()
img += b"\xff" * (-len(img) % 0x10000)
open(out, "wb").write(img)
EOF

###########################################################################
# 4. Encrypted vendor containers (structure as documented; our own keys)
###########################################################################
head -c 16384 "$HERE/sqfs-xz.img" > "$W/plain.bin"
K128=000102030405060708090a0b0c0d0e0f
K256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
IV=f0e0d0c0b0a090807060504030201000
# OpenSSL enc (salted, password-derived key): what many update scripts use
# (OpenSSL 3 omits the "Salted__" + salt header when -S fixes the salt, so
# it is written here as "openssl enc" writes it with a random salt)
salted() { printf 'Salted__'; printf '%s' "$1" | xxd -r -p
           openssl enc -aes-256-cbc -pbkdf2 -S "$1" -pass pass:fwaudit-fixture -in "$2"; }
salted 0123456789abcdef "$W/plain.bin" > "$OUT/enc-openssl.bin"
openssl enc -aes-128-cbc -nopad -K $K128 -iv $IV -in "$W/plain.bin" -out "$W/shrs.body"
openssl enc -aes-256-cbc -nopad -K $K256 -iv $IV -in "$W/plain.bin" -out "$W/encimg.body"
salted fedcba9876543210 "$W/plain.bin" > "$W/tlv.body"
openssl enc -aes-128-cbc -nopad -K $K128 -iv $IV -in "$W/plain.bin" -out "$W/tplink.body"
"$PY" - "$W" "$OUT" "$IV" <<'EOF'
import hashlib, struct, sys
w, out, iv = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
def rd(n): return open(f"{w}/{n}", "rb").read()
plain = rd("plain.bin")
# D-Link SHRS: magic, BE decrypted size, size without padding, IV, three
# SHA-512 digests, 512 unused bytes, two 512-byte signatures, data
body = rd("shrs.body")
h = b"SHRS" + struct.pack(">II", len(plain), len(plain)) + iv
h += hashlib.sha512(plain + b"key").digest() + hashlib.sha512(plain).digest() + hashlib.sha512(body).digest()
h += b"\0" * 512 + b"\x5a" * 1024
assert len(h) == 0x6dc
open(f"{out}/enc-dlink-shrs.bin", "wb").write(h + body)
# D-Link encrpted_img (DIR-X): 12-byte magic, BE total size, data at 16
body = rd("encimg.body")
open(f"{out}/enc-dlink-encrpted_img.bin", "wb").write(b"encrpted_img" + struct.pack(">I", 16 + len(body)) + body)
# D-Link TLV: magic 64 80 19 40, header of 0x74 bytes, then OpenSSL enc
body = rd("tlv.body")
h = bytearray(0x74)
h[0:4] = b"\x64\x80\x19\x40"
h[4:8] = struct.pack("<I", len(body))
h[8:8+16] = hashlib.md5(body).digest()
open(f"{out}/enc-dlink-tlv.bin", "wb").write(bytes(h) + body)
# TP-Link cloud firmware: "fw-type:Cloud" at 0x14, RSA version 0x200
# (RSA-2048) at 0x110, signature at 0x130, encrypted data after 0x230
body = rd("tplink.body")
h = bytearray(0x230)
h[0:4] = struct.pack(">I", 0x230 + len(body))
h[4:20] = hashlib.md5(body).digest()
h[0x14:0x14+13] = b"fw-type:Cloud"
h[0x110:0x114] = struct.pack(">I", 0x200)
h[0x130:0x230] = hashlib.sha512(body).digest() * 4
open(f"{out}/enc-tplink-cloud.bin", "wb").write(bytes(h) + body)
EOF
# Netgear encrypted factory image (imgencoder / OpenWrt's
# netgear-encrypted-factory.py layout): model, region, version, date,
# product/model index, counts of hardware IDs and models, hw_info,
# "encrpted_img" at 0x200, BE ciphertext length, BE encryption block size,
# AES-256-CBC data (each block encrypted from the IV), BE CRC-32 at the end
openssl enc -aes-256-cbc -nosalt -nopad -K $K256 -iv $IV -in "$W/plain.bin" -out "$W/netgear.body"
"$PY" - "$W/netgear.body" "$OUT/enc-netgear.img" <<'EOF'
import struct, sys, zlib
body = open(sys.argv[1], "rb").read()
h = struct.pack(">32s32s64s64sIBBB13s200s100s12sII", b"WAX206", b"US", b"V1.0.5.1",
                b"Thu Jan 1 00:00:00 1970", 0, 0, 1, 1, b"",
                b"1010000004540000_NETGEAR;WAX206", b"", b"encrpted_img", len(body), 16384)
assert len(h) == 0x214
img = h + body
open(sys.argv[2], "wb").write(img + struct.pack(">I", zlib.crc32(img)))
EOF

# Pepwave: OpenSSL enc output with "Pe1337__" in place of "Salted__"
{ printf 'Pe1337__'; tail -c +9 "$OUT/enc-openssl.bin"; } > "$OUT/enc-pepwave.bin"
# OpenPGP messages (Linksys .gpg.img updates): gpg with a throw-away home,
# one encrypted with a password (AES-256, iterated-salted S2K), one to an
# RSA-2048 key made here. Salts, session keys and the key are random, so
# these two differ byte-wise between builds (same layout).
export GNUPGHOME="$W/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase fwaudit-fixture --s2k-cipher-algo AES256 \
    --cipher-algo AES256 --compress-algo none --symmetric -o "$OUT/enc-gpg-password.gpg" "$W/plain.bin"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key 'fwaudit fixture <fixture@fwaudit.invalid>' rsa2048 encr never
gpg --batch --quiet --trust-model always --compress-algo none -r fixture@fwaudit.invalid --encrypt \
    -o "$OUT/enc-gpg-rsa.gpg" "$W/plain.bin"
gpgconf --kill gpg-agent

# a password-protected update zip (ZipCrypto, zip -P): a plain read-me and
# an encrypted firmware member
mkdir -p "$W/zipenc"
cp "$HERE/data.txt" "$W/zipenc/firmware.bin"
printf 'Firmware 1.0.2: install with the vendor tool.\n' > "$W/zipenc/readme.txt"
pin "$W/zipenc"
(cd "$W/zipenc" && zip -X -q -P fwaudit-fixture "$OUT/enc-zip.zip" firmware.bin && zip -X -q "$OUT/enc-zip.zip" readme.txt)

for f in login.cgi login-file.cgi hg532e-update.zip flash-uboot2013.bin enc-openssl.bin \
         enc-dlink-shrs.bin enc-dlink-encrpted_img.bin enc-dlink-tlv.bin enc-tplink-cloud.bin enc-netgear.img enc-pepwave.bin enc-gpg-password.gpg enc-gpg-rsa.gpg enc-zip.zip; do
    cp "$OUT/$f" "$HERE/$f"
    printf '%-28s %8d  %s\n' "$f" "$(stat -c %s "$OUT/$f")" "$(sha256sum < "$OUT/$f" | cut -c1-16)"
done
