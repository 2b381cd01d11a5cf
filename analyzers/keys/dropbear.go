package keys

import (
	"bytes"
	"math/big"
)

// dropbearAnchors find dropbear key files: the key type name, which
// dropbearAt then checks is preceded by its uint32 length. (Searching for
// the length first would stop at every run of zero bytes in a binary.)
var dropbearAnchors = [][]byte{[]byte("ssh-"), []byte("ecdsa-sha2-nistp")}

// dropbearAt returns the start of a dropbear key whose type name is at i.
func dropbearAt(b []byte, i int) (int, bool) {
	if i < 4 || b[i-4] != 0 || b[i-3] != 0 || b[i-2] != 0 {
		return 0, false
	}
	switch n := int(b[i-1]); {
	case n == 7 && (bytes.HasPrefix(b[i:], []byte("ssh-rsa")) || bytes.HasPrefix(b[i:], []byte("ssh-dss"))),
		n == 11 && bytes.HasPrefix(b[i:], []byte("ssh-ed25519")),
		n == 19 && bytes.HasPrefix(b[i:], []byte("ecdsa-sha2-nistp")):
		return i - 4, true
	}
	return 0, false
}

// parseDropbear parses a private key in dropbear's binary format (what
// dropbearkey writes and dropbear reads from /etc/dropbear/*_host_key):
//
//	ssh-rsa:     string type, mpint e, n, d [, p, q]
//	ssh-dss:     string type, mpint p, q, g, y, x
//	ecdsa-sha2-: string type, string curve, string Q, mpint d
//	ssh-ed25519: string type, string (32-byte seed || 32-byte public key)
//
// The numbers are checked (n = p·q, y = g^x, Q = d·G, seed → public key),
// so a public key blob or random bytes do not pass. It returns the key and
// the number of bytes it used.
func parseDropbear(b []byte) (keyInfo, int, bool) {
	w := &wire{b: b}
	p, ok := readSSHPublic(w)
	if !ok {
		return keyInfo{}, 0, false
	}
	k := keyInfo{Format: "dropbear"}
	switch {
	case p.rsa != nil:
		d := w.mpint()
		if w.bad {
			return keyInfo{}, 0, false
		}
		var pp, q *big.Int
		if len(w.b) >= 4 {
			save := *w
			pp, q = w.mpint(), w.mpint()
			if w.bad {
				*w = save
				pp, q = nil, nil
			}
		}
		if checkRSA(p.rsa.N, bigE(p.rsa.E), d, pp, q) != nil {
			return keyInfo{}, 0, false
		}
		if pp == nil {
			k.Note = "without p and q"
		}
	case p.dsa != nil:
		x := w.mpint()
		if w.bad || checkDSA(p.dsa.P, p.dsa.Q, p.dsa.G, p.dsa.Y, x) != nil {
			return keyInfo{}, 0, false
		}
	case p.curve != "":
		d := w.mpint()
		if w.bad {
			return keyInfo{}, 0, false
		}
		pub, err := checkECDSA(p.curve, p.point, d)
		if err != nil {
			return keyInfo{}, 0, false
		}
		if k.setPublic(pub) != nil {
			return keyInfo{}, 0, false
		}
		return k, len(b) - len(w.b), true
	case p.algo == "ssh-ed25519":
		s := w.bytes(64)
		if w.bad || len(s) != 64 {
			return keyInfo{}, 0, false
		}
		pub, err := checkEd25519(s[:32], s[32:])
		if err != nil {
			return keyInfo{}, 0, false
		}
		p.ed25519 = pub
	default:
		return keyInfo{}, 0, false
	}
	if k.setPublic(p.public()) != nil {
		return keyInfo{}, 0, false
	}
	return k, len(b) - len(w.b), true
}
