// Package keys is the analyzer for private key material shipped in an image
// (Code of Practice guidelines 4, "securely store credentials and
// security-sensitive data", and 5, "communicate securely"). A key baked
// into firmware is the same on every device: whoever extracts it can
// impersonate any device or decrypt its traffic.
//
// Every regular file of every layer is scanned for anchors only — PEM
// armour ("-----BEGIN "), PuTTY headers, dropbear's binary key layout, DER
// SEQUENCE headers and Java keystore magic — and a candidate is reported
// only when it parses as a real key and its numbers check out (n = p·q,
// y = g^x, Q = d·G, ...). Header strings in binaries (dropbear, OpenSSL),
// placeholders in web pages and documentation, public keys, certificates
// and truncated keys produce nothing.
//
// Rules:
//
//   - private-key (high): an unencrypted private key (PEM PKCS#1, PKCS#8,
//     SEC 1, DSA, OpenSSH, DER in binaries, a JKS entry that opens with a
//     well-known password);
//   - private-key-encrypted (low): an encrypted private key (legacy
//     OpenSSL PEM encryption, encrypted PKCS#8, OpenSSH with a cipher,
//     password-protected PKCS#12, JKS/JCEKS entries);
//   - dropbear-host-key (high): a key in dropbear's binary format;
//   - pkcs12-no-password (high): a PKCS#12 file that opens with the empty
//     password and holds a private key;
//   - putty-private-key: a PuTTY .ppk key (high unencrypted, low
//     encrypted).
//
// Evidence gives the key's type, size, container and fingerprint (SHA-256
// of the public key in SSH wire format, as ssh-keygen -l shows it, or of
// the SPKI DER for key types SSH does not know); Finding.Fingerprint is
// analyzers.Fingerprint (keyed) of the same public-key bytes, so the same
// key is recognised across files and images scanned with one key. Key material never appears in a finding.
package keys

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/rules/builtin"
)

// Rule names.
const (
	RulePrivateKey       = "private-key"
	RuleEncrypted        = "private-key-encrypted"
	RuleDropbear         = "dropbear-host-key"
	RulePKCS12NoPassword = "pkcs12-no-password"
	RulePuTTY            = "putty-private-key"
)

// Category of every finding.
const Category = "private-key"

// Read bounds: text files are read up to TextBound, binaries up to
// BinaryBound; larger files are scanned over their first bytes only.
const (
	TextBound   = 4 << 20
	BinaryBound = 16 << 20
)

// maxAnchorTries bounds the PEM, PuTTY and dropbear candidates tried in one
// file, so a hostile file full of anchors stays cheap.
const maxAnchorTries = 1000

// maxDropbearTries is lower: an old-style dropbear RSA key without p and q
// is checked with a full modular exponentiation.
const maxDropbearTries = 16

type analyzer struct{}

// New returns the keys analyzer.
func New() analyzers.Analyzer { return analyzer{} }

func (analyzer) Name() string { return "keys" }

// Examines implements analyzers.Scoped.
func (analyzer) Examines() string { return "files searched for private keys" }

// hit is one confirmed key inside a file's bytes.
type hit struct {
	pos, n int
	rule   string
	key    keyInfo
	// marker is the PEM BEGIN line, or "" for binary formats.
	marker string
}

// scan finds every confirmed key in b. It is the whole content scanner,
// independent of files, and must never panic on any input.
func scan(b []byte) []hit {
	var hits []hit
	emit := func(pos, n int, rule string, k keyInfo, marker string) {
		hits = append(hits, hit{pos: pos, n: n, rule: rule, key: k, marker: marker})
	}
	forAnchor(b, pemAnchor, maxAnchorTries, func(pos int) int {
		if _, ok := pemLabel(b[pos:]); !ok {
			return -1
		}
		blk, ok := parsePEMAt(b[pos:])
		if !ok {
			return 0
		}
		k, ok := keyFromPEM(blk)
		if !ok {
			return 0
		}
		rule := RulePrivateKey
		if k.Encrypted {
			rule = RuleEncrypted
		}
		emit(pos, blk.end, rule, k, strings.TrimSpace(blk.begin))
		return blk.end
	})
	forAnchor(b, puttyAnchor, maxAnchorTries, func(pos int) int {
		if pos > 0 && isWordByte(b[pos-1]) {
			return -1
		}
		k, n, ok := parsePuTTY(b[pos:])
		if !ok {
			return 0
		}
		marker, _, _ := strings.Cut(string(b[pos:pos+n]), "\n")
		emit(pos, n, RulePuTTY, k, strings.TrimSpace(marker))
		return n
	})
	for _, a := range dropbearAnchors {
		forAnchor(b, a, maxDropbearTries, func(i int) int {
			pos, ok := dropbearAt(b, i)
			if !ok {
				return -1
			}
			k, n, ok := parseDropbear(b[pos:])
			if !ok {
				return 0
			}
			emit(pos, n, RuleDropbear, k, "")
			return n - (i - pos)
		})
	}
	scanDER(b, emit)
	if k, ok := parseJKS(b); ok {
		rule := RuleEncrypted
		if !k.Encrypted {
			rule = RulePrivateKey
		}
		emit(0, len(b), rule, k, "")
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].pos < hits[j].pos })
	// a key inside another (an SSH blob inside a PKCS#12, ...) once only
	out := hits[:0]
	end := -1
	for _, h := range hits {
		if h.pos < end {
			continue
		}
		out = append(out, h)
		end = h.pos + h.n
	}
	return out
}

// forAnchor calls try at each occurrence of anchor in b. try returns the
// number of bytes it consumed, 0 if the candidate failed after real work,
// or -1 if a cheap check rejected it; only real attempts count towards
// limit.
func forAnchor(b, anchor []byte, limit int, try func(pos int) int) {
	for from, tries := 0, 0; from < len(b) && tries < limit; {
		i := bytes.Index(b[from:], anchor)
		if i < 0 {
			return
		}
		pos := from + i
		n := try(pos)
		if n >= 0 {
			tries++
		}
		from = pos + max(n, 1)
	}
}

func (a analyzer) Analyze(ctx context.Context, t *analyzers.Target) ([]analyzers.Finding, error) {
	type located struct {
		f    analyzers.File
		text bool
		line int
		h    hit
	}
	var all []located
	var unread []string
	sel := analyzers.Selector{MinSize: 1, Analyzer: "keys", What: "files searched for private keys"}
	// a file with the bytes of one already scanned has its hits
	same := analyzers.NewSameContent[[]hit]()
	err := t.Walk(ctx, sel, func(f analyzers.File) error {
		class := t.Classify(f)
		bound := int64(BinaryBound)
		if class == analyzers.ClassText {
			bound = TextBound
		}
		data, err := t.ReadHead(f, bound)
		if err != nil {
			unread = append(unread, f.Path)
			return analyzers.Skip
		}
		hits := same.Get(data, 0, func() []hit { return scan(data) })
		line, last := 1, 0
		for _, h := range hits {
			l := located{f: f, text: class == analyzers.ClassText, h: h}
			if l.text {
				line += bytes.Count(data[last:h.pos], []byte{'\n'})
				last = h.pos
				l.line = line
			}
			all = append(all, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	all = analyzers.DropUnpackedCopies(t, all, func(l located) (string, string, string) {
		id := ""
		if l.f.Layer != nil {
			id = l.f.Layer.ID
		}
		return id, l.f.Path, l.h.key.FP
	})
	// where each key occurs, to cross-reference copies
	where := map[string][]string{}
	for _, l := range all {
		p := l.f.Path
		if l.f.Layer != nil {
			p = l.f.Layer.ID + ":" + p
		}
		if !contains(where[l.h.key.FP], p) {
			where[l.h.key.FP] = append(where[l.h.key.FP], p)
		}
	}
	out := make([]analyzers.Finding, 0, len(all))
	for _, l := range all {
		self := l.f.Path
		if l.f.Layer != nil {
			self = l.f.Layer.ID + ":" + self
		}
		var others []string
		for _, p := range where[l.h.key.FP] {
			if p != self {
				others = append(others, p)
			}
		}
		out = append(out, finding(l.f, l.text, l.line, l.h, others))
	}
	if len(unread) > 0 {
		return out, fmt.Errorf("keys: %d files could not be read (first: %s)", len(unread), unread[0])
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// hostKeyPath reports whether a path looks like an SSH host key.
func hostKeyPath(p string) bool {
	b := strings.ToLower(path.Base(p))
	return strings.Contains(b, "host") && strings.Contains(b, "key") || strings.Contains(strings.ToLower(p), "/dropbear/")
}

func finding(f analyzers.File, text bool, line int, h hit, others []string) analyzers.Finding {
	k := h.key
	sev := analyzers.High
	if k.Encrypted {
		sev = analyzers.Low
	}
	fd := analyzers.Finding{
		Rule:        h.rule,
		Category:    Category,
		Severity:    sev,
		Path:        f.Path,
		Fingerprint: k.FP,
		Guidelines:  builtin.Guidelines(h.rule),
	}
	if f.Layer != nil {
		fd.Layer, fd.LayerID = f.Layer.Path, f.Layer.ID
	}
	where := fmt.Sprintf("%s (layer %s)", f.Path, fd.Layer)
	if text {
		fd.Line = line
		where = fmt.Sprintf("%s line %d (layer %s)", f.Path, line, fd.Layer)
	} else {
		fd.Offset = analyzers.Int64(int64(h.pos))
		if h.pos > 0 {
			where = fmt.Sprintf("%s at offset %#x (layer %s)", f.Path, h.pos, fd.Layer)
		}
	}
	marker := h.marker
	if marker == "" {
		marker = k.Format + " key"
		if !text && h.pos > 0 {
			marker += fmt.Sprintf(" at offset %#x", h.pos)
		}
	}
	fd.Evidence = fmt.Sprintf("%s — %s", marker, k.describe())

	what := "private key"
	if h.rule == RuleDropbear || hostKeyPath(f.Path) {
		what = "SSH host key"
	}
	desc := fmt.Sprintf("%s (%s)", k.size(), k.Format)
	var msg string
	switch {
	case h.rule == RulePKCS12NoPassword:
		msg = fmt.Sprintf("A PKCS#12 file at %s opens with the empty password and holds a %s %s. "+
			"Anyone who extracts the firmware has the key, and every device running it carries the same one.",
			where, desc, what)
	case k.Encrypted:
		msg = fmt.Sprintf("An encrypted %s %s is shipped at %s (%s). "+
			"It is not usable without its passphrase, but a device that loads it at boot must carry the passphrase too, and every device shares the same key.",
			desc, what, where, k.Cipher)
	case h.rule == RuleDropbear:
		msg = fmt.Sprintf("An unencrypted %s %s in dropbear's format is shipped at %s. "+
			"Every device running this firmware presents the same host key: anyone who extracts it can impersonate the device or intercept its SSH sessions.",
			k.size(), what, where)
	default:
		msg = fmt.Sprintf("An unencrypted %s %s is shipped at %s. "+
			"Every device running this firmware has the same key: anyone who extracts it can impersonate the device or decrypt its traffic.",
			desc, what, where)
		if strings.Contains(k.Cipher, "key password") {
			msg = fmt.Sprintf("A %s %s at %s is protected only by the well-known %s. "+
				"Every device running this firmware has the same key: anyone who extracts it can impersonate the device or decrypt its traffic.",
				desc, what, where, k.Cipher)
		}
	}
	if k.SSHFP != "" {
		msg += " Public key fingerprint " + k.SSHFP + "."
	}
	if len(others) > 0 {
		if len(others) > 5 {
			others = append(others[:5:5], fmt.Sprintf("and %d more", len(others)-5))
		}
		msg += " The same key is also at " + strings.Join(others, ", ") + "."
	}
	msg += " Generate keys on the device at first boot (or provision unique keys per device in a protected store) instead of shipping them in the image."
	fd.Message = msg
	return fd
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
