package extract

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Encrypted vendor containers.
//
// Some vendors encrypt whole update images; their headers are recognisable
// even though the content is not. Such a chunk becomes a layer of status
// "unsupported" whose Encryption names the scheme and whose Error says
// "encrypted with <scheme>: cannot be assessed without the vendor key", and
// an anomaly of kind AnomalyEncryptedImage. Nothing inside it was analysed,
// so compliance verdicts that depend on it are not-assessed rather than
// passed. The header layouts follow what unblob, binwalk and FACT document
// (D-Link SHRS and encrpted_img, D-Link TLV, TP-Link cloud images, Netgear
// encrypted factory images, OpenPGP messages as Linksys ships them,
// Pepwave and plain OpenSSL "enc" streams); fwaudit does not decrypt them.
//
// A candidate is accepted only when the data after the header looks like
// ciphertext (sampled entropy above 7.5 bits per byte), so the same bytes in
// a text or a program ("Salted__" is a string in libcrypto) are not taken
// for an encrypted image.

// AnomalyEncryptedImage marks a layer that is an encrypted container.
const AnomalyEncryptedImage = "encrypted-image"

// EncryptedError is the Unpack error of an encrypted container. It wraps
// ErrUnsupported.
type EncryptedError struct {
	// Scheme names the vendor container and cipher, e.g.
	// "D-Link SHRS (AES-128-CBC)".
	Scheme string
}

func (e *EncryptedError) Error() string {
	return fmt.Sprintf("encrypted with %s: cannot be assessed without the vendor key", e.Scheme)
}

func (e *EncryptedError) Unwrap() error { return ErrUnsupported }

// noteEncrypted records on l the scheme of an encrypted container, or
// of an archive whose entries are password-protected (a ZipCrypto or AES
// zip: the entries were not extracted, so the layer is partial, never ok).
func noteEncrypted(l *Layer, err error) {
	var ee *EncryptedError
	if errors.As(err, &ee) {
		l.Encryption = ee.Scheme
		l.Anomalies = append(l.Anomalies, Anomaly{Kind: AnomalyEncryptedImage, Path: l.Source, Detail: ee.Error()})
		return
	}
	n := 0
	for _, a := range l.Anomalies {
		if a.Kind == AnomalyEncrypted {
			n++
		}
	}
	if n == 0 {
		return
	}
	l.Encryption = fmt.Sprintf("%s password protection", l.Format)
	if l.Status == StatusOK {
		l.Status = StatusPartial
	}
	if l.Error == "" {
		l.Error = fmt.Sprintf("%d %s not extracted: encrypted with %s: cannot be assessed without the vendor key", n, plural(n, "entry", "entries"), l.Encryption)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type encryptedFormat struct {
	name   string
	scheme string
	magics []Magic
	// hdrLen is where the ciphertext starts.
	hdrLen int64
	// check validates the header beyond the magics (may be nil).
	check func(h []byte) bool
	// length returns the chunk's length from its header, or -1.
	length func(h []byte) int64
	// describe adds header facts to the scheme (may be nil).
	describe func(h []byte) string
	// anyMagic: one of the magics suffices (alternative encodings of
	// the same header), not all of them.
	anyMagic bool
}

func (e *encryptedFormat) Name() string    { return e.name }
func (e *encryptedFormat) Kind() Kind      { return Container }
func (e *encryptedFormat) Magics() []Magic { return e.magics }

func (e *encryptedFormat) Identify(h []byte) bool {
	matched := 0
	for _, m := range e.magics {
		if len(h) >= m.Offset+len(m.Bytes) && bytes.Equal(h[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) {
			matched++
		} else if !e.anyMagic {
			return false
		}
	}
	if matched == 0 {
		return false
	}
	return int64(len(h)) >= min(e.hdrLen, HeaderSize) && (e.check == nil || e.check(h))
}

func (e *encryptedFormat) Bound(r io.ReaderAt, size int64) (int64, error) {
	if e.length == nil {
		return -1, nil
	}
	n := e.length(readHeader(r, 0, size, HeaderSize))
	if n <= 0 {
		return -1, nil
	}
	if n > size {
		n = size
	}
	return n, nil
}

// encryptedMinPayload is the least ciphertext an encrypted image holds.
const encryptedMinPayload = 512

func (e *encryptedFormat) Unpack(_ context.Context, r io.ReaderAt, size int64, _ *Writer) (int64, error) {
	h := readHeader(r, 0, size, HeaderSize)
	if !e.Identify(h) || size < e.hdrLen+encryptedMinPayload {
		return 0, ErrNotFormat
	}
	end := size
	if e.length != nil {
		if n := e.length(h); n > e.hdrLen && n < end {
			end = n
		}
	}
	if end-e.hdrLen < encryptedMinPayload || sampleEntropy(r, e.hdrLen, min(end, e.hdrLen+64<<10)) < 7.5 {
		return 0, ErrNotFormat
	}
	scheme := e.scheme
	if e.describe != nil {
		if d := e.describe(h); d != "" {
			scheme += ", " + d
		}
	}
	return end, &EncryptedError{Scheme: scheme}
}

func init() {
	for _, f := range []*encryptedFormat{
		// D-Link SHRS (DIR-8xx, DAP, ...): "SHRS", BE decrypted size,
		// decrypted size without padding, a 16-byte IV, three SHA-512
		// digests, 512 unused bytes and two 512-byte signatures (0x6dc
		// bytes), then AES-128-CBC data.
		{name: "dlink-shrs", scheme: "D-Link SHRS (AES-128-CBC, RSA-signed)", hdrLen: 0x6dc,
			magics: []Magic{{0, []byte("SHRS")}},
			check: func(h []byte) bool {
				if len(h) < 12 {
					return false
				}
				full, plain := binary.BigEndian.Uint32(h[4:]), binary.BigEndian.Uint32(h[8:])
				return full > 0 && full%16 == 0 && plain <= full && full-plain < 16 && full < 1<<30
			},
			length: func(h []byte) int64 { return 0x6dc + int64(binary.BigEndian.Uint32(h[4:])) },
			describe: func(h []byte) string {
				return fmt.Sprintf("%d bytes decrypted", binary.BigEndian.Uint32(h[8:]))
			}},
		// D-Link encrpted_img (DIR-X series): "encrpted_img", BE total
		// size, AES-256-CBC data from offset 16.
		{name: "dlink-encrpted-img", scheme: "D-Link encrpted_img (AES-256-CBC)", hdrLen: 16,
			magics: []Magic{{0, []byte("encrpted_img")}},
			check: func(h []byte) bool {
				return len(h) >= 16 && binary.BigEndian.Uint32(h[12:]) > 16+encryptedMinPayload
			},
			length: func(h []byte) int64 { return int64(binary.BigEndian.Uint32(h[12:])) }},
		// D-Link TLV images (DAP/COVR): magic 64 80 19 40, a 0x74-byte
		// header, then an OpenSSL "enc" stream (AES-256-CBC, salted).
		{name: "dlink-tlv", scheme: "D-Link TLV (OpenSSL AES-256-CBC)", hdrLen: 0x74 + 16,
			magics: []Magic{{0, []byte{0x64, 0x80, 0x19, 0x40}}, {0x74, []byte("Salted__")}}},
		// TP-Link cloud images (Archer AX, Deco, Tapo hubs): "fw-type:" at
		// 0x14, the RSA key size (0x200 = RSA-2048) at 0x110, the
		// signature at 0x130, encrypted data after it.
		{name: "tplink-cloud", scheme: "TP-Link cloud firmware (RSA-2048 signed, AES-encrypted)", hdrLen: 0x230,
			magics: []Magic{{0x14, []byte("fw-type:")}},
			check: func(h []byte) bool {
				return len(h) >= 0x114 && binary.BigEndian.Uint32(h[0x110:]) == 0x200
			},
			describe: func(h []byte) string {
				t := h[0x14:min(len(h), 0x14+32)]
				if i := bytes.IndexByte(t, 0); i >= 0 {
					t = t[:i]
				}
				if !isText(t) {
					return ""
				}
				return string(t)
			}},
		// Netgear encrypted factory images (WAX2xx, EAX, EX6400v3 and
		// others built with Netgear's imgencoder): model, region and
		// version strings (32, 32 and 64 bytes), a creation date, hardware
		// IDs and models, "encrpted_img" at 0x200, BE ciphertext length at
		// 0x20c and BE encryption block size at 0x210; AES-256-CBC data
		// from 0x214 (restarted every block), then a BE CRC-32 of all
		// that precedes it.
		{name: "netgear-encrypted", scheme: "Netgear encrypted image (AES-256-CBC)", hdrLen: netgearEncHdr,
			magics: []Magic{{0x200, []byte("encrpted_img")}},
			check:  netgearEncCheck,
			length: func(h []byte) int64 {
				return netgearEncHdr + int64(binary.BigEndian.Uint32(h[0x20c:])) + 4
			},
			describe: func(h []byte) string {
				model, _ := cstring(h[0:0x20])
				region, _ := cstring(h[0x20:0x40])
				version, _ := cstring(h[0x40:0x80])
				if region != "" {
					model += " " + region
				}
				return model + " " + version
			}},
		// OpenPGP encrypted messages (RFC 4880): one or more session-key
		// packets (public-key, tag 1, or password, tag 3) and then the
		// encrypted data packet (tag 9, 18 or 20). Linksys ships its EA
		// series updates so (FW_..._prod.gpg.img), and update scripts of
		// other vendors run "gpg --decrypt". The magics are the common
		// first packets gpg writes: a password session key with an
		// iterated-and-salted S2K, and RSA-2048/3072/4096 or Curve25519
		// public-key session keys, in the old and the new packet format.
		{name: "openpgp-encrypted", scheme: "OpenPGP encrypted message (GnuPG)", hdrLen: 16, anyMagic: true,
			magics: []Magic{
				{0, []byte{0x8c, 0x0d, 0x04}}, {0, []byte{0xc3, 0x0d, 0x04}},
				{0, []byte{0x85, 0x01, 0x0c, 0x03}}, {0, []byte{0x85, 0x01, 0x8c, 0x03}}, {0, []byte{0x85, 0x02, 0x0c, 0x03}},
				{0, []byte{0xc1, 0xc1, 0x4c, 0x03}}, {0, []byte{0xc1, 0xc2, 0x4c, 0x03}}, {0, []byte{0xc1, 0xc3, 0x4c, 0x03}},
				{0, []byte{0x84, 0x5e, 0x03}}, {0, []byte{0xc1, 0x5e, 0x03}},
			},
			check:    func(h []byte) bool { return openpgpESK(h) != "" },
			describe: openpgpESK},
		// Pepwave: OpenSSL "enc" output whose "Salted__" is replaced by
		// "Pe1337__" (an 8-byte salt, then AES-256-CBC data).
		{name: "pepwave-enc", scheme: "Pepwave (OpenSSL enc, salted, password-derived key)", hdrLen: 16,
			magics: []Magic{{0, []byte("Pe1337__")}}},
		// OpenSSL "enc" output: "Salted__", an 8-byte salt, then the
		// ciphertext; the key comes from a password the vendor's updater
		// holds. Many update scripts use it (openssl enc -aes-256-cbc).
		{name: "openssl-enc", scheme: "OpenSSL enc (salted, password-derived key)", hdrLen: 16,
			magics: []Magic{{0, []byte("Salted__")}}},
	} {
		Register(f)
	}
}

// netgearEncHdr is the length of a Netgear encrypted image's header.
const netgearEncHdr = 0x214

// netgearEncCheck accepts a Netgear encrypted image header: a printable
// model name, a version "V<digit>...", a ciphertext length that is a
// whole number of AES blocks, and an encryption block size that is one.
func netgearEncCheck(h []byte) bool {
	if len(h) < netgearEncHdr {
		return false
	}
	model, ok1 := cstring(h[0:0x20])
	_, ok2 := cstring(h[0x20:0x40])
	version, ok3 := cstring(h[0x40:0x80])
	if !ok1 || !ok2 || !ok3 || model == "" || len(version) < 2 || version[0] != 'V' || version[1] < '0' || version[1] > '9' {
		return false
	}
	n, blk := binary.BigEndian.Uint32(h[0x20c:]), binary.BigEndian.Uint32(h[0x210:])
	return n >= 16 && n%16 == 0 && n < 1<<30 && blk >= 16 && blk%16 == 0
}

// openpgpESK walks the OpenPGP packets at the start of h: one to eight
// session-key packets, then an encrypted data packet. It describes the
// session keys ("to key 0123456789ABCDEF (RSA)", "password, AES-256"),
// or returns "" when h is not such a message.
func openpgpESK(h []byte) string {
	var keys []string
	p := 0
	for n := 0; n < 9 && p < len(h); n++ {
		tag, body, next, ok := openpgpPacket(h, p)
		if !ok {
			return ""
		}
		switch tag {
		case 1: // public-key encrypted session key: v3, key ID, algorithm
			if len(body) < 10 || body[0] != 3 {
				return ""
			}
			algo := map[byte]string{1: "RSA", 2: "RSA", 16: "Elgamal", 18: "ECDH", 25: "X25519", 26: "X448"}[body[9]]
			if algo == "" {
				return ""
			}
			keys = append(keys, fmt.Sprintf("to key %X (%s)", body[1:9], algo))
		case 3: // password (symmetric-key) encrypted session key: v4
			if len(body) < 4 || body[0] != 4 || body[2] > 3 {
				return ""
			}
			cipher := map[byte]string{2: "3DES", 3: "CAST5", 4: "Blowfish", 7: "AES-128", 8: "AES-192", 9: "AES-256", 10: "Twofish", 11: "Camellia-128", 12: "Camellia-192", 13: "Camellia-256"}[body[1]]
			if cipher == "" {
				return ""
			}
			keys = append(keys, "password, "+cipher)
		case 9, 18, 20: // the encrypted data
			if len(keys) == 0 {
				return ""
			}
			return strings.Join(keys, "; ")
		default:
			return ""
		}
		p = next
	}
	return ""
}

// openpgpPacket reads the packet header at h[p:]: its tag, the body within
// h (possibly cut at the end of h) and where the next packet starts. A
// body of indeterminate or partial length is only accepted for the data
// packets, which end the walk.
func openpgpPacket(h []byte, p int) (tag int, body []byte, next int, ok bool) {
	if p >= len(h) || h[p]&0x80 == 0 {
		return 0, nil, 0, false
	}
	b := h[p]
	p++
	var n int
	if b&0x40 == 0 { // old format
		tag = int(b>>2) & 0xf
		switch b & 3 {
		case 0:
			if p+1 > len(h) {
				return 0, nil, 0, false
			}
			n, p = int(h[p]), p+1
		case 1:
			if p+2 > len(h) {
				return 0, nil, 0, false
			}
			n, p = int(binary.BigEndian.Uint16(h[p:])), p+2
		case 2:
			if p+4 > len(h) {
				return 0, nil, 0, false
			}
			n, p = int(binary.BigEndian.Uint32(h[p:])&0x7fffffff), p+4
		default:
			return tag, nil, len(h), tag == 9 || tag == 18 || tag == 20
		}
	} else { // new format
		tag = int(b & 0x3f)
		if p >= len(h) {
			return 0, nil, 0, false
		}
		switch o := int(h[p]); {
		case o < 192:
			n, p = o, p+1
		case o < 224:
			if p+2 > len(h) {
				return 0, nil, 0, false
			}
			n, p = (o-192)<<8+int(h[p+1])+192, p+2
		case o == 255:
			if p+5 > len(h) {
				return 0, nil, 0, false
			}
			n, p = int(binary.BigEndian.Uint32(h[p+1:])&0x7fffffff), p+5
		default: // partial body length
			return tag, nil, len(h), tag == 9 || tag == 18 || tag == 20
		}
	}
	end := min(p+n, len(h))
	return tag, h[p:end], p + n, true
}
