package extract

// What a container's own header says about the image: how it protects its
// content against change (Protection) and which device and release it is
// for (Identity). Formats record them through the Writer; the engine copies
// them onto the layer. The integrity analyzer (software integrity, Code of
// Practice guideline 7) and the SBOM's subject read them.

// Protection kinds.
const (
	// ProtectionChecksum: a checksum or an unkeyed digest (CRC32, MD5,
	// SHA-*) that anyone who changes the content can recompute. It detects
	// corruption, not tampering.
	ProtectionChecksum = "checksum"
	// ProtectionSignature: a cryptographic signature made with a key the
	// image does not hold.
	ProtectionSignature = "signature"
	// ProtectionNone: a container format that could carry a checksum or a
	// signature carries neither.
	ProtectionNone = "none"
)

// Protection is how a container protects its content, as its header
// records it.
type Protection struct {
	// Kind is ProtectionChecksum, ProtectionSignature or ProtectionNone.
	Kind string `json:"kind"`
	// Algorithms are the algorithms the header names or implies, sorted
	// ("crc32", "md5", "sha256,rsa2048").
	Algorithms []string `json:"algorithms"`
	// Covers says what is protected ("header and data", "whole image").
	Covers string `json:"covers"`
	// Detail is the evidence, in words ("md5sum1 at 0x4c: MD5 over the
	// image with a fixed salt published in OpenWrt's mktplinkfw").
	Detail string `json:"detail"`
	// Verified says whether the checksum matched (signatures are not
	// verified: the key is not in the image).
	Verified bool `json:"verified"`
}

// Identity is what a vendor header says the image is.
type Identity struct {
	Vendor string `json:"vendor,omitempty"`
	// Product is the device model as the header names it.
	Product string `json:"product,omitempty"`
	// Version is the firmware release.
	Version string `json:"version,omitempty"`
	// Hardware is the hardware id or revision as the header records it.
	Hardware string `json:"hardware,omitempty"`
}

// SetProtection records how the chunk being unpacked protects its content.
func (w *Writer) SetProtection(p Protection) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.protection = &p
}

// SetIdentity records what the chunk's header says the image is.
func (w *Writer) SetIdentity(id Identity) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.identity = &id
}

func (w *Writer) header() (*Protection, *Identity) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.protection, w.identity
}
