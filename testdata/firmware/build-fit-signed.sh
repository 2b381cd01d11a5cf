#!/bin/sh
# Builds fit-signed.itb: a U-Boot FIT image whose configuration is signed
# with an RSA-2048 key (mkimage -k), the way a verified-boot vendor image
# is made. Needs u-boot-tools (mkimage), device-tree-compiler (dtc) and
# openssl. The key is generated afresh in a temp dir and thrown away, so the
# signature bytes differ between runs; the tree's layout does not. The
# payloads are small committed fixtures (data.gz as the "kernel",
# board.dtb as the device tree), so the result stays a few KiB.
set -eu
cd "$(dirname "$0")"
out=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1425895200

mkdir -p "$tmp/keys"
openssl genrsa -out "$tmp/keys/dev.key" 2048 2>/dev/null
openssl req -batch -new -x509 -key "$tmp/keys/dev.key" -out "$tmp/keys/dev.crt" -days 3650 -subj /CN=fwaudit-test 2>/dev/null
cp data.gz board.dtb "$tmp/"
cat > "$tmp/fit.its" <<'EOF'
/dts-v1/;
/ {
	description = "fwaudit signed FIT test image";
	#address-cells = <1>;
	images {
		kernel-1 {
			description = "payload (gzip)";
			data = /incbin/("data.gz");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "gzip";
			load = <0x80008000>;
			entry = <0x80008000>;
			hash-1 { algo = "sha256"; };
		};
		fdt-1 {
			description = "fwaudit test board";
			data = /incbin/("board.dtb");
			type = "flat_dt";
			arch = "arm";
			compression = "none";
			hash-1 { algo = "sha256"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			description = "signed boot configuration";
			kernel = "kernel-1";
			fdt = "fdt-1";
			signature-1 {
				algo = "sha256,rsa2048";
				key-name-hint = "dev";
				sign-images = "kernel", "fdt";
			};
		};
	};
};
EOF
(cd "$tmp" && mkimage -f fit.its -k keys -r fit-signed.itb >/dev/null)
cp "$tmp/fit-signed.itb" "$out/fit-signed.itb"
echo "wrote $out/fit-signed.itb"
