package keys

import (
	"bytes"
	"slices"
)

// maxDER bounds the size of one DER structure the binary scanner parses.
const maxDER = 64 << 10

// derLen returns the header and total length of the DER SEQUENCE at b.
func derLen(b []byte) (hdr, total int, ok bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, 0, false
	}
	switch l := b[1]; {
	case l < 0x80:
		hdr, total = 2, 2+int(l)
	case l == 0x81:
		if len(b) < 3 || b[2] < 0x80 {
			return 0, 0, false
		}
		hdr, total = 3, 3+int(b[2])
	case l == 0x82:
		if len(b) < 4 || b[2] == 0 {
			return 0, 0, false
		}
		hdr, total = 4, 4+(int(b[2])<<8|int(b[3]))
	default:
		return 0, 0, false
	}
	if total > len(b) || total > maxDER || total < 40 {
		return 0, 0, false
	}
	return hdr, total, true
}

// derKind is a cheap look at what follows the SEQUENCE header, so that only
// plausible candidates are parsed: "key" (version 0 or 1 INTEGER followed
// by an INTEGER, SEQUENCE or OCTET STRING), "pfx" (version 3) or "enc"
// (EncryptedPrivateKeyInfo: an AlgorithmIdentifier with a password-based
// OID).
func derKind(c []byte) string {
	if len(c) < 16 {
		return ""
	}
	if c[0] == 0x02 && c[1] == 0x01 {
		switch {
		case c[2] == 0x00 && (c[3] == 0x02 || c[3] == 0x30):
			return "key"
		case c[2] == 0x01 && c[3] == 0x04:
			return "key"
		case c[2] == 0x03 && c[3] == 0x30:
			return "pfx"
		}
		return ""
	}
	if c[0] == 0x30 {
		// SEQUENCE { OID 1.2.840.113549.1.5/.12, ... } or JKS's OID
		i := 2
		if c[1] == 0x81 {
			i = 3
		} else if c[1] >= 0x80 {
			return ""
		}
		if c[i] != 0x06 {
			return ""
		}
		oid := c[i+2:]
		if bytes.HasPrefix(oid, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05}) ||
			bytes.HasPrefix(oid, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01}) ||
			bytes.HasPrefix(oid, []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01}) {
			return "enc"
		}
	}
	return ""
}

// maxDERTries bounds the candidates parsed in one file.
const maxDERTries = 4096

var (
	derVersion = []byte{0x02, 0x01}
	pkcsOID    = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01}
)

// derCandidates finds where DER private keys may start. Rather than
// searching for SEQUENCE headers (0x30 0x82 is common in machine code), it
// searches for what follows them — the version INTEGER (02 01 00/01/03) of
// PKCS#1, PKCS#8, SEC 1, DSA and PFX structures, or the PKCS OID of an
// EncryptedPrivateKeyInfo's algorithm — and looks back for a SEQUENCE
// header whose length fits.
func derCandidates(b []byte) []int {
	var cands []int
	add := func(pos, hdr int, kind string) bool {
		if pos < 0 {
			return false
		}
		h, total, ok := derLen(b[pos:])
		if !ok || h != hdr || derKind(b[pos+h:pos+total]) != kind {
			return false
		}
		cands = append(cands, pos)
		return true
	}
	for from := 0; from < len(b) && len(cands) < maxDERTries; {
		i := bytes.Index(b[from:], derVersion)
		if i < 0 {
			break
		}
		i += from
		from = i + 1
		if i+3 >= len(b) || b[i+2] > 3 || b[i+2] == 2 {
			continue
		}
		for _, h := range []int{4, 3, 2} {
			if add(i-h, h, "key") || add(i-h, h, "pfx") {
				break
			}
		}
	}
	for from := 0; from < len(b) && len(cands) < maxDERTries; {
		i := bytes.Index(b[from:], pkcsOID)
		if i < 0 {
			break
		}
		i += from
		from = i + 1
		tag := i - 2 // 06 len OID
		if tag < 0 || b[tag] != 0x06 {
			continue
		}
	outer:
		for _, h1 := range []int{2, 3} { // AlgorithmIdentifier header
			for _, h2 := range []int{4, 3, 2} { // EncryptedPrivateKeyInfo header
				if add(tag-h1-h2, h2, "enc") {
					break outer
				}
			}
		}
	}
	return cands
}

// scanDER finds DER-encoded private keys, PKCS#12 files and encrypted
// PKCS#8 blobs in b; only what parses (and checks) is reported.
func scanDER(b []byte, emit func(pos, n int, rule string, k keyInfo, label string)) {
	cands := derCandidates(b)
	slices.Sort(cands)
	covered := 0
	for _, pos := range cands {
		if pos < covered {
			continue
		}
		hdr, total, _ := derLen(b[pos:])
		der := b[pos : pos+total]
		var (
			k    keyInfo
			ok   bool
			rule = RulePrivateKey
		)
		switch derKind(der[hdr:]) {
		case "key":
			k, ok = keyFromDER(der, "", " DER")
		case "enc":
			k, ok = encryptedPKCS8(der, true)
			k.Format = "PKCS#8 encrypted DER"
			rule = RuleEncrypted
		case "pfx":
			k, rule, ok = pkcs12Key(der)
		}
		if !ok {
			continue
		}
		emit(pos, total, rule, k, "")
		covered = pos + total
	}
}
