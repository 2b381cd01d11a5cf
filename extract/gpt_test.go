package extract

import (
	"path/filepath"
	"testing"
)

func TestGPTFixture(t *testing.T) {
	data := archRead(t, archFixture(t, "gpt.img"))
	f := archFormat(t, "gpt")
	if !f.Identify(data[:HeaderSize]) {
		t.Fatal("not identified")
	}
	if (mbrFormat{}).Identify(data[:HeaderSize]) {
		t.Error("protective MBR taken for an MBR")
	}
	res := archUnpack(t, f, data, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil {
		t.Fatal(res.err)
	}
	fwSame(t, fwFiles(t, res.dir), []string{"partitions/", "partitions/1-kernel.img 8192", "partitions/2-basic-data.img 5120"})
	fwPart(t, res.dir, "partitions/1-kernel.img", 1, 16)
	fwPart(t, res.dir, "partitions/2-basic-data.img", 2, 10)
	if res.consumed != int64(len(data)) {
		t.Errorf("consumed %d of %d (the backup header ends the disk)", res.consumed, len(data))
	}
	if len(res.w.Anomalies()) != 0 {
		t.Errorf("anomalies %+v", res.w.Anomalies())
	}
}

func TestGPTCorrupt(t *testing.T) {
	orig := archRead(t, archFixture(t, "gpt.img"))
	hdr := append([]byte{}, orig...)
	hdr[512+40] ^= 1 // header CRC breaks
	if (gptFormat{}).Identify(hdr[:HeaderSize]) {
		t.Error("identified with a bad header CRC")
	}
	ents := append([]byte{}, orig...)
	ents[1024+56] = 'K' // a name byte: the entries CRC breaks
	res := archUnpack(t, gptFormat{}, ents, filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "") {
		t.Errorf("no anomaly for the entries CRC: %+v", res.w.Anomalies())
	}
	res = archUnpack(t, gptFormat{}, orig[:40*512], filepath.Join(t.TempDir(), "out"), DefaultLimits())
	if res.err != nil || !archHasAnomaly(res.w.Anomalies(), AnomalyMalformed, "partitions/1-kernel.img") {
		t.Errorf("truncated disk: %v %+v", res.err, res.w.Anomalies())
	}
	if res.consumed > 40*512 {
		t.Errorf("consumed %d", res.consumed)
	}
}

func FuzzGPT(f *testing.F) {
	img := fuzzFixture("gpt.img")
	f.Add(fuzzRaw(img, 2048))
	f.Add(fuzzPatch(1))
	f.Add(fuzzPatch(1, 512+80, []byte{0, 1, 0, 0}))              // entry count
	f.Add(fuzzPatch(1, 1024+32, []byte{2, 0, 0, 0, 0, 0, 0, 0})) // first LBA of part 1 = the table
	f.Fuzz(func(t *testing.T, data []byte) { fuzzArch(t, gptFormat{}, fuzzInput(data, img)) })
}

func BenchmarkGPT(b *testing.B) { fwBench(b, gptFormat{}, archRead(b, archFixture(b, "gpt.img"))) }
