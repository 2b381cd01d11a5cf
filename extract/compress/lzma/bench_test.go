package lzma

import (
	"bytes"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	ulzma "github.com/ulikunitz/xz/lzma"
)

const benchSize = 8 << 20

var benchOnce sync.Once
var benchPlain, benchComp []byte

// benchData returns ~8 MB of firmware-like data (text, code, tables,
// padding, random) and its .lzma compression (end marker, size in header).
func benchData(b *testing.B) ([]byte, []byte) {
	benchOnce.Do(func() {
		if path := os.Getenv("LZMA_BENCH_FILE"); path != "" {
			// Optional: benchmark an existing .lzma file instead.
			var err error
			if benchComp, err = os.ReadFile(path); err != nil {
				b.Fatal(err)
			}
			if benchPlain, _, err = refDecode(benchComp, 1<<40); err != nil {
				b.Fatal(err)
			}
			return
		}
		benchPlain = genMixed(benchSize, 7)
		benchComp = compress(b, benchPlain, wcfg{props: Props{LC: 3, LP: 0, PB: 2}, sized: true, eos: true, dict: 8 << 20})
		if path := os.Getenv("LZMA_BENCH_DUMP"); path != "" {
			// For timing xz-utils by hand: xz --format=lzma -dc $path >/dev/null
			_ = os.WriteFile(path, benchComp, 0o644)
		}
	})
	return benchPlain, benchComp
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports the process CPU time based throughput (cpu-MB/s), which
// is less sensitive than wall time to other load on a shared machine.
type cpuMeter struct{ start time.Duration }

func startCPU(b *testing.B) *cpuMeter {
	b.ResetTimer()
	return &cpuMeter{cpuTime()}
}

func (m *cpuMeter) stop(b *testing.B, bytesPerOp int) {
	b.StopTimer()
	if d := cpuTime() - m.start; d > 0 {
		b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
	}
}

func BenchmarkDecode(b *testing.B) {
	plain, comp := benchData(b)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b, len(plain))
	var dst []byte
	for i := 0; i < b.N; i++ {
		out, _, err := DecodeAlone(dst[:0], comp, 0)
		if err != nil || len(out) != len(plain) {
			b.Fatal(err, len(out))
		}
		dst = out
	}
}

func BenchmarkDecodeNoReuse(b *testing.B) {
	plain, comp := benchData(b)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b, len(plain))
	for i := 0; i < b.N; i++ {
		out, _, err := DecodeAlone(nil, comp, 0)
		if err != nil || len(out) != len(plain) {
			b.Fatal(err, len(out))
		}
	}
}

func BenchmarkReader(b *testing.B) {
	plain, comp := benchData(b)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b, len(plain))
	for i := 0; i < b.N; i++ {
		z, err := NewReader(bytes.NewReader(comp), 0)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, z)
		if err != nil || n != int64(len(plain)) {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkDecodeUlikunitz(b *testing.B) {
	plain, comp := benchData(b)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b, len(plain))
	for i := 0; i < b.N; i++ {
		r, err := ulzma.NewReader(bytes.NewReader(comp))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != int64(len(plain)) {
			b.Fatal(err, n)
		}
	}
}
