package keys

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still shipped in firmware
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/binary"
	"math/big"
	"strings"
)

// wire reads the SSH wire encoding (RFC 4251): uint32-length-prefixed
// strings and mpints. Any read past the end sets bad.
type wire struct {
	b   []byte
	bad bool
}

func (w *wire) uint32() uint32 {
	if w.bad || len(w.b) < 4 {
		w.bad = true
		return 0
	}
	v := binary.BigEndian.Uint32(w.b)
	w.b = w.b[4:]
	return v
}

// bytes reads a string of at most max bytes.
func (w *wire) bytes(max int) []byte {
	n := w.uint32()
	if w.bad || uint64(n) > uint64(len(w.b)) || int(n) > max {
		w.bad = true
		return nil
	}
	s := w.b[:n]
	w.b = w.b[n:]
	return s
}

// mpint reads a non-negative mpint of at most maxRSABits.
func (w *wire) mpint() *big.Int {
	s := w.bytes(maxRSABits/8 + 1)
	if w.bad {
		return nil
	}
	if len(s) > 0 && s[0]&0x80 != 0 {
		w.bad = true // negative
		return nil
	}
	return new(big.Int).SetBytes(s)
}

// sshPublic parses an SSH public key blob into its algorithm and key;
// it returns the ECDSA curve's SSH name and point for ECDSA.
type sshPub struct {
	algo    string
	rsa     *rsa.PublicKey
	dsa     *dsa.PublicKey
	curve   string
	point   []byte
	ed25519 ed25519.PublicKey
}

// readSSHPublic reads the public part of an SSH key in the layout shared
// by dropbear files and PuTTY public blobs.
func readSSHPublic(w *wire) (*sshPub, bool) {
	p := &sshPub{algo: string(w.bytes(64))}
	switch {
	case p.algo == "ssh-rsa":
		e, n := w.mpint(), w.mpint()
		if w.bad || e.BitLen() > 32 || n.Sign() == 0 {
			return nil, false
		}
		p.rsa = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case p.algo == "ssh-dss":
		pp, q, g, y := w.mpint(), w.mpint(), w.mpint(), w.mpint()
		if w.bad {
			return nil, false
		}
		p.dsa = &dsa.PublicKey{Parameters: dsa.Parameters{P: pp, Q: q, G: g}, Y: y}
	case strings.HasPrefix(p.algo, "ecdsa-sha2-"):
		p.curve = string(w.bytes(64))
		p.point = w.bytes(1024)
		if w.bad || "ecdsa-sha2-"+p.curve != p.algo {
			return nil, false
		}
		if c, _ := sshCurve(p.curve); c == nil {
			return nil, false
		}
	case p.algo == "ssh-ed25519":
		// the public half only; dropbear stores it differently (see
		// parseDropbear)
	default:
		return nil, false
	}
	return p, !w.bad
}

func (p *sshPub) public() crypto.PublicKey {
	switch {
	case p.rsa != nil:
		return p.rsa
	case p.dsa != nil:
		return p.dsa
	case p.ed25519 != nil:
		return p.ed25519
	}
	return nil
}
