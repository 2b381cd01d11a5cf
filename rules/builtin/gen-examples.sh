#!/bin/sh
# How the key, certificate and password-hash examples in builtin.yaml were
# made (once; the output was pasted into builtin.yaml — nothing here runs at
# build or test time). Every key is a throwaway made only for these examples
# (subjects "fwaudit example ... (not secret)").
#
# Tools: OpenSSL 3.0.19, dropbearkey (Debian dropbear-bin 2022.83),
# puttygen (Debian putty-tools 0.78).
#
#   sh rules/builtin/gen-examples.sh /tmp/fwaudit-examples
set -eu
d=${1:?output folder}
mkdir -p "$d" && cd "$d"

# accounts: MD5-crypt of a dictionary password ("admin", rules/passwords)
# and of a strong random one (not in any dictionary)
openssl passwd -1 -salt fwexampl admin > default.hash
openssl passwd -1 -salt fwexampl "$(openssl rand -base64 24)" > strong.hash

# keys: an EC P-256 key, unencrypted and encrypted (PKCS#8, AES-256)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
openssl pkey -in key.pem -pubout -out key.pub.pem
openssl pkey -in key.pem -aes256 -passout pass:fwaudit-example -out key.enc.pem
# a PKCS#12 store of a small self-signed certificate and that key, with the
# empty password and with a password
openssl req -x509 -key key.pem -out p12.crt.pem -days 3650 -subj "/CN=fwaudit example p12 (not secret)"
# (-legacy: RC2/3DES, as device firmware ships them)
openssl pkcs12 -export -legacy -inkey key.pem -in p12.crt.pem -passout pass: -out empty.p12
openssl pkcs12 -export -legacy -inkey key.pem -in p12.crt.pem -passout pass:fwaudit-example -out secret.p12
# dropbear: an ECDSA host key in dropbear's format
dropbearkey -t ecdsa -s 256 -f dropbear_ecdsa_host_key > /dev/null
dropbearkey -y -f dropbear_ecdsa_host_key | grep ^ecdsa > dropbear.pub
# PuTTY: an ed25519 key, and its public half (RFC 4716)
puttygen -t ed25519 -C "fwaudit example (not secret)" -o putty.ppk --new-passphrase /dev/null
puttygen putty.ppk -O public -o putty.pub

# certificates: a CA, leaves signed by it (EC, RSA-1024, SHA-1), all valid
# for 10 years from the day they were made (2026-12-03)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3650 \
    -subj "/CN=fwaudit example CA (not secret)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
    -subj "/CN=fwaudit example device (not secret)"
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 -out leaf.pem
# the same request self-signed, without extensions (not a CA)
openssl x509 -req -in leaf.csr -signkey leaf.key -days 3650 -sha256 -out self.pem
openssl req -new -newkey rsa:1024 -nodes -keyout weak.key -out weak.csr -subj "/CN=fwaudit example weak key (not secret)"
openssl x509 -req -in weak.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 -out weak.pem
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha1 -out sha1.pem
# a bundle of four roots (a trust store)
for i in 1 2 3 4; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out root$i.pem \
        -days 3650 -subj "/CN=fwaudit example root $i (not secret)"
done
cat root1.pem root2.pem root3.pem root4.pem > bundle.pem
ls -l

# integrity: a legacy uImage (CRC32 only: unsigned) and a FIT whose
# configuration is signed (mkimage -k, as testdata/firmware/build-fit-signed.sh),
# both around a one-line payload. Needs u-boot-tools (mkimage 2023.01) and
# device-tree-compiler.
export SOURCE_DATE_EPOCH=1425895200
printf 'fwaudit example payload (not a kernel)\n' > payload.bin
mkimage -A arm -O linux -T kernel -C none -a 0x80008000 -e 0x80008000 -n "fwaudit example" -d payload.bin unsigned.uimg > /dev/null
mkdir -p keys
openssl genrsa -out keys/dev.key 2048 2>/dev/null
openssl req -batch -new -x509 -key keys/dev.key -out keys/dev.crt -days 3650 -subj "/CN=fwaudit example FIT key (not secret)"
cat > fit.its <<'ITS'
/dts-v1/;
/ {
	description = "fwaudit example signed FIT";
	#address-cells = <1>;
	images {
		kernel-1 {
			data = /incbin/("payload.bin");
			type = "kernel";
			arch = "arm";
			os = "linux";
			compression = "none";
			load = <0x80008000>;
			entry = <0x80008000>;
			hash-1 { algo = "sha256"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 {
			kernel = "kernel-1";
			signature-1 {
				algo = "sha256,rsa2048";
				key-name-hint = "dev";
				sign-images = "kernel";
			};
		};
	};
};
ITS
mkimage -f fit.its -k keys -r signed.itb > /dev/null
ls -l unsigned.uimg signed.itb
