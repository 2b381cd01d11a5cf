#!/usr/bin/env bash
# Builds the two small fleet images of fleet's shared-secret test: two
# different products on two different file systems (SquashFS by mksquashfs,
# ext2 by mke2fs -d) that ship the same SSH host key and the same md5crypt
# root hash, as TP-Link's TL-WR841N v10 and TL-WR940N v4 do. The key is
# made fresh on each run, so a rebuild changes the bytes (commit both
# images together). Tools: squashfs-tools 4.5, e2fsprogs 1.47, OpenSSH
# ssh-keygen, OpenSSL 3 (Debian 12).
set -euo pipefail
cd "$(dirname "$0")"
export SOURCE_DATE_EPOCH=1425895200 E2FSPROGS_FAKE_TIME=1425895200
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

ssh-keygen -q -t ed25519 -N '' -C 'root@factory' -f "$tmp/hostkey"
hash=$(openssl passwd -1 -salt fwFleet1 admin)   # $1$fwFleet1$... ("admin")

mkroot() { # dir product
  mkdir -p "$1/etc/ssh" "$1/etc/dropbear" "$1/bin" "$1/www"
  printf 'root:x:0:0:root:/root:/bin/ash\nnobody:*:65534:65534:nobody:/var:/bin/false\n' > "$1/etc/passwd"
  printf 'root:%s:16000:0:99999:7:::\nnobody:*:16000:0:99999:7:::\n' "$hash" > "$1/etc/shadow"
  printf '%s firmware\n' "$2" > "$1/etc/banner"
  printf '<html><body>%s</body></html>\n' "$2" > "$1/www/index.html"
}

# Acme Cam 100: SquashFS, key where OpenSSH keeps it
mkroot "$tmp/a" "Acme Cam 100"
cp "$tmp/hostkey" "$tmp/a/etc/ssh/ssh_host_ed25519_key"
rm -f acme_cam100_1.2.0.sqfs
mksquashfs "$tmp/a" acme_cam100_1.2.0.sqfs -comp xz -all-root -noappend -quiet

# Globex Router 7: ext2, the same key under dropbear's folder
mkroot "$tmp/b" "Globex Router 7"
cp "$tmp/hostkey" "$tmp/b/etc/dropbear/ssh_host_ed25519_key"
rm -f globex_router7_2.0.1.ext2
mke2fs -q -t ext2 -b 1024 -N 64 -U 6d1c1f2e-0000-4000-8000-000000000001 -E root_owner=0:0,hash_seed=6d1c1f2e-0000-4000-8000-000000000002 \
  -d "$tmp/b" globex_router7_2.0.1.ext2 256
ls -l acme_cam100_1.2.0.sqfs globex_router7_2.0.1.ext2
