package report

import (
	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/extract"
)

// hostile is text a malicious image can put into evidence, paths and names.
const hostile = "x`y``z | a\nb\r\n<script>alert(1)</script>\x1b[31mRED\x1b[0m\t\\|\u202eevil &amp; [link](http://e) *b* _i_ \xff"

// fixture is a fixed, realistic report: a TP-Link image with a SquashFS, an
// initrd inside it, a layer that failed, an opaque chunk; findings with a
// line and with an offset; components; a failed analyzer.
func fixture() *Report {
	layers := []*extract.Layer{
		{ID: "L0", Path: "image", Format: "image", Kind: "image", Size: 8 << 20, Status: extract.StatusOK},
		{ID: "L1", Parent: "L0", Path: "tplink@0x0", Format: "tplink", Kind: "container", Offset: 0, Size: 8<<20 - 512,
			Depth: 1, Status: extract.StatusOK, Files: 2, Bytes: 7 << 20, Dir: "layers/0001-tplink"},
		{ID: "L2", Parent: "L1", Path: "tplink@0x0 > squashfs@0x100000", Format: "squashfs", Kind: "filesystem",
			Offset: 0x100000, Size: 5 << 20, Depth: 2, Status: extract.StatusPartial, Error: "limit reached: files (100000)",
			Files: 532, Bytes: 12 << 20, Dir: "layers/0002-squashfs",
			Anomalies: []extract.Anomaly{
				{Kind: extract.AnomalyTraversal, Path: "../../etc/cron.d/x", Detail: "entry name escapes the layer; not extracted"},
				{Kind: extract.AnomalyLimit, Path: "", Detail: "limit reached: files (100000)"},
			},
			Specials: []extract.Special{{Path: "/dev/console", Kind: "char", Mode: 0o600, Major: 5, Minor: 1}},
			Links:    []extract.Link{{Path: "/bin/sh", Target: "busybox"}, {Path: "/sbin/init2", Target: "/sbin/init", Hard: true}},
		},
		{ID: "L3", Parent: "L2", Path: "tplink@0x0 > squashfs@0x100000 > /boot/initrd.gz > gzip@0x0", Format: "gzip", Kind: "stream",
			Source: "/boot/initrd.gz", Size: 900 << 10, Depth: 3, Status: extract.StatusOK, Files: 1, Bytes: 2 << 20},
		{ID: "L4", Parent: "L3", Path: "tplink@0x0 > squashfs@0x100000 > /boot/initrd.gz > gzip@0x0 > /data > cpio@0x0", Format: "cpio",
			Kind: "filesystem", Source: "/data", Size: 2 << 20, Depth: 4, Status: extract.StatusOK, Files: 40, Bytes: 1900 << 10},
		{ID: "L5", Parent: "L1", Path: "tplink@0x0 > /kernel > lzma@0x40", Format: "lzma", Kind: "stream", Source: "/kernel",
			Offset: 0x40, Size: 1 << 20, Depth: 2, Status: extract.StatusFailed, Error: "lzma: unexpected end of stream"},
		{ID: "L6", Parent: "L0", Path: "opaque@0x7f0000", Format: "opaque", Kind: "opaque", Offset: 0x7f0000, Size: 64 << 10,
			Depth: 1, Status: extract.StatusOpaque, Entropy: 7.98,
			Error: "unidentified high-entropy data (encrypted, or compressed in an unknown format)"},
	}
	fs := []analyzers.Finding{
		{Rule: "default-password", Category: "credentials", Severity: analyzers.Critical,
			Layer: layers[2].Path, LayerID: "L2", Path: "/etc/shadow", Line: 1,
			Evidence: "root:$1$GTN.gpri$… (34 chars, sha256:0b14a7e1b7f6a1c2) = \"admin\"",
			Message:  "account root has the well-known default password \"admin\"", Fingerprint: analyzers.Fingerprint("admin"),
			Guidelines: []int{1}, Analyzer: "accounts"},
		{Rule: "private-key", Category: "crypto", Severity: analyzers.High,
			Layer: layers[4].Path, LayerID: "L4", Path: "/etc/ssl/server.key", Offset: analyzers.Int64(0x1f0),
			Evidence: analyzers.Redact("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
			Message:  "an RSA private key ships in the image", Fingerprint: analyzers.Fingerprint("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
			Guidelines: []int{4, 5}, Analyzer: "crypto"},
		{Rule: "extraction-anomaly/path-traversal", Category: "extraction-anomaly", Severity: analyzers.High,
			Layer: layers[2].Path, LayerID: "L2", Path: "../../etc/cron.d/x",
			Evidence:   "entry name escapes the layer; not extracted",
			Message:    "path-traversal while unpacking squashfs: entry name escapes the layer; not extracted",
			Guidelines: []int{}, Analyzer: "extract"},
		{Rule: "telnet-enabled", Category: "services", Severity: analyzers.Medium,
			Layer: layers[4].Path, LayerID: "L4", Path: "/etc/inittab", Line: 7,
			Evidence:   hostile,
			Message:    "telnetd is started at boot: " + hostile,
			Guidelines: []int{5, 6}, Analyzer: "services"},
		{Rule: "extraction-failed", Category: "extraction-anomaly", Severity: analyzers.Low,
			Layer: layers[5].Path, LayerID: "L5", Path: "/kernel", Offset: analyzers.Int64(0x40),
			Evidence:   "lzma: unexpected end of stream",
			Message:    "lzma layer at offset 0x40 could not be fully unpacked: lzma: unexpected end of stream; what it holds was not analysed",
			Guidelines: []int{}, Analyzer: "extract"},
		{Rule: "opaque-data", Category: "extraction-anomaly", Severity: analyzers.Info,
			Layer: layers[6].Path, LayerID: "L6", Offset: analyzers.Int64(0x7f0000),
			Evidence:   "65536 bytes, entropy 7.98 bits/byte",
			Message:    "data of an unknown format with high entropy (encrypted or compressed); it could not be analysed",
			Guidelines: []int{}, Analyzer: "extract"},
	}
	for i := range fs {
		fs[i].SetID()
	}
	analyzers.SortFindings(fs)
	comps := []Component{
		{Name: "busybox", Version: "1.31.1", Type: "binary", PURL: "pkg:generic/busybox@1.31.1",
			CPEs: []string{"cpe:2.3:a:busybox:busybox:1.31.1:*:*:*:*:*:*:*"}, Paths: []string{"/bin/busybox"},
			Layers: []string{layers[2].Path}, FoundBy: "binary-classifier-cataloger"},
		{Name: "dropbear", Version: "2019.78", Type: "binary", CPEs: []string{}, Paths: []string{"/usr/sbin/dropbear", "/usr/bin/dbclient", "/usr/bin/scp", "/usr/bin/dropbearkey"},
			Layers: []string{layers[2].Path}, FoundBy: "binary-classifier-cataloger"},
		{Name: "evil|name`x", Version: "1.0\n| injected | row |", Type: "opkg", PURL: "pkg:opkg/evil@1.0",
			CPEs: []string{}, Paths: []string{"/usr/lib/opkg/info/evil|x.control"}, Layers: []string{layers[4].Path}, FoundBy: "opkg-cataloger"},
	}
	return &Report{
		Schema:     SchemaVersion,
		Tool:       Tool{Name: "fwaudit", Version: "1.2.3"},
		Image:      Image{Path: "/data/fw/Archer_C7v5.bin", Name: "Archer_C7v5.bin", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 8 << 20},
		Layers:     layers,
		Findings:   fs,
		Components: comps,
		Analyzers: AnalyzerSummary{
			Ran:      []string{"accounts", "crypto", "services"},
			Failures: []analyzers.Failure{{Analyzer: "sbom", Error: "syft: catalog failed: context deadline exceeded"}},
		},
		Stats: Stats{
			ExtractMS: 1234, AnalyzeMS: 567, SBOMMS: 89, TotalMS: 1890,
			AnalyzerMS:   map[string]int64{"services": 3, "accounts": 12, "crypto": 40},
			Layers:       len(layers),
			Files:        575,
			BytesOut:     (7 << 20) + (12 << 20) + (2 << 20) + (1900 << 10),
			FindingCount: map[string]int{"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 1},
		},
	}
}
