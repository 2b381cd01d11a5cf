package extract

import "github.com/fwaudit/fwaudit/extract/compress"

// Compression codecs register themselves in extract/compress, one file per
// codec, with their magics and the identifiers containers use for them.
// The tables the formats here need are built from that registry, never
// listed by hand: payload sniffing (sniffCodec, payload.go), the kernel
// payload search (kernel.go), uImage compression bytes (uimage.go) and FIT
// compression names (fit.go).

// kernelCodecMagics lists the signatures of compressed kernels behind a
// zImage/bzImage decompressor, by the codecs' Rank.
func kernelCodecMagics() [][]byte {
	var out [][]byte
	for _, c := range compress.Codecs() {
		out = append(out, c.Kernel...)
	}
	return out
}

// uimageCodecTable maps a uImage compression byte to a codec name: 0 is
// IH_COMP_NONE (stored, ""), the others are the codecs' UImage bytes.
func uimageCodecTable() map[byte]string {
	m := map[byte]string{0: ""}
	for _, c := range compress.Codecs() {
		if c.UImage != 0 {
			m[c.UImage] = c.Name
		}
	}
	return m
}

// fitCodecTable maps a FIT "compression" property to a codec name: "none"
// or no property is stored (""), the others are the codecs' FIT names.
func fitCodecTable() map[string]string {
	m := map[string]string{"none": "", "": ""}
	for _, c := range compress.Codecs() {
		if c.FIT != "" {
			m[c.FIT] = c.Name
		}
	}
	return m
}

// codecMagics returns a codec's magics as format magics at offset 0, for a
// stream format whose signatures are its codec's.
func codecMagics(codec string) []Magic {
	c, _ := compress.Get(codec)
	out := make([]Magic, 0, len(c.Magics))
	for _, m := range c.Magics {
		out = append(out, Magic{0, m})
	}
	return out
}
