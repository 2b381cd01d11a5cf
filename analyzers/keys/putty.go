package keys

import (
	"encoding/base64"
	"strconv"
	"strings"
)

var puttyAnchor = []byte("PuTTY-User-Key-File-")

// puttyWindow bounds how far a PuTTY key file may extend from its first
// line.
const puttyWindow = 64 << 10

// parsePuTTY parses a PuTTY .ppk file (versions 2 and 3) that starts at b.
// The public blob must parse; an unencrypted private blob must match it
// (n = p·q, y = g^x, Q = d·G, seed → public key); an encrypted one must
// be a whole number of AES blocks. It returns the key and the bytes used.
func parsePuTTY(b []byte) (keyInfo, int, bool) {
	if len(b) > puttyWindow {
		b = b[:puttyWindow]
	}
	var (
		lines  = strings.Split(string(b), "\n")
		li     int
		hdr    = map[string]string{}
		pubB64 string
		priB64 string
		used   int
	)
	next := func() (string, bool) {
		if li >= len(lines) {
			return "", false
		}
		l := lines[li]
		used += len(l) + 1
		li++
		return strings.TrimRight(l, "\r"), true
	}
	first, _ := next()
	version, algo, ok := strings.Cut(strings.TrimPrefix(first, string(puttyAnchor)), ": ")
	if !ok || (version != "2" && version != "3") {
		return keyInfo{}, 0, false
	}
	readLines := func(n string) (string, bool) {
		c, err := strconv.Atoi(n)
		if err != nil || c <= 0 || c > 1000 {
			return "", false
		}
		var sb strings.Builder
		for range c {
			l, ok := next()
			if !ok {
				return "", false
			}
			sb.WriteString(strings.TrimSpace(l))
		}
		return sb.String(), true
	}
	for {
		l, ok := next()
		if !ok {
			return keyInfo{}, 0, false
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return keyInfo{}, 0, false
		}
		switch k {
		case "Public-Lines":
			if pubB64, ok = readLines(v); !ok {
				return keyInfo{}, 0, false
			}
		case "Private-Lines":
			if priB64, ok = readLines(v); !ok {
				return keyInfo{}, 0, false
			}
		default:
			hdr[k] = v
		}
		if k == "Private-Lines" {
			break
		}
		if len(hdr) > 32 {
			return keyInfo{}, 0, false
		}
	}
	// Private-MAC follows; count it as part of the key.
	if li < len(lines) && strings.HasPrefix(lines[li], "Private-MAC: ") {
		used += len(lines[li]) + 1
	}
	used = min(used, len(b))
	pubBlob, err := base64.StdEncoding.DecodeString(pubB64)
	if err != nil {
		return keyInfo{}, 0, false
	}
	priBlob, err := base64.StdEncoding.DecodeString(priB64)
	if err != nil || len(priBlob) == 0 {
		return keyInfo{}, 0, false
	}
	w := &wire{b: pubBlob}
	p, ok := readSSHPublic(w)
	if !ok || p.algo != algo {
		return keyInfo{}, 0, false
	}
	if p.algo == "ssh-ed25519" {
		pk := w.bytes(64)
		if w.bad || len(pk) != 32 {
			return keyInfo{}, 0, false
		}
		p.ed25519 = pk
	}
	if len(w.b) != 0 {
		return keyInfo{}, 0, false
	}
	info := keyInfo{Format: "PuTTY v" + version}
	enc := hdr["Encryption"]
	switch enc {
	case "none":
		if !puttyPrivateMatches(p, priBlob) {
			return keyInfo{}, 0, false
		}
	case "aes256-cbc":
		if len(priBlob)%16 != 0 {
			return keyInfo{}, 0, false
		}
		info.Encrypted, info.Cipher = true, enc
		if kdf := hdr["Key-Derivation"]; kdf != "" {
			info.Cipher += ", " + kdf
		}
	default:
		return keyInfo{}, 0, false
	}
	// the fingerprint is that of the public blob, as ssh-keygen shows it
	if p.curve != "" {
		info.Type, info.Curve = "ECDSA", curveDisplay(p.curve)
	} else if err := info.setPublic(p.public()); err != nil {
		return keyInfo{}, 0, false
	}
	info.setFingerprint(pubBlob)
	return info, used, true
}

// curveDisplay turns an SSH curve name into the NIST name crypto/elliptic
// uses ("nistp256" → "P-256").
func curveDisplay(sshName string) string {
	if c, _ := sshCurve(sshName); c != nil {
		return c.Params().Name
	}
	return sshName
}

// puttyPrivateMatches checks an unencrypted PuTTY private blob against the
// public key.
func puttyPrivateMatches(p *sshPub, pri []byte) bool {
	w := &wire{b: pri}
	switch {
	case p.rsa != nil:
		d, pp, q := w.mpint(), w.mpint(), w.mpint()
		return !w.bad && checkRSA(p.rsa.N, bigE(p.rsa.E), d, pp, q) == nil
	case p.dsa != nil:
		x := w.mpint()
		return !w.bad && checkDSA(p.dsa.P, p.dsa.Q, p.dsa.G, p.dsa.Y, x) == nil
	case p.curve != "":
		d := w.mpint()
		if w.bad {
			return false
		}
		_, err := checkECDSA(p.curve, p.point, d)
		return err == nil
	case p.ed25519 != nil:
		// PuTTY stores the 32-byte seed as a string
		s := w.bytes(64)
		if w.bad {
			return false
		}
		_, err := checkEd25519(s, p.ed25519)
		return err == nil
	}
	return false
}
