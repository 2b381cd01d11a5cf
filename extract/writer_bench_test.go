package extract

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkWriterTree creates a Debian-like tree through one Writer: 200
// folders four levels deep, 10 small files and 2 symlinks in each. It
// measures the per-entry cost of the Writer's checks and system calls (the
// path walks of os.Root), not decoding. Run it with the work folder on a
// tmpfs (TMPDIR=/dev/shm) to keep the disk out of the figures.
func BenchmarkWriterTree(b *testing.B) {
	content := []byte(strings.Repeat("x", 1024))
	b.ReportAllocs()
	entries := 0
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		w, err := NewWriter(dir, DefaultLimits(), 1<<30)
		if err != nil {
			b.Fatal(err)
		}
		entries = 0
		for d := range 200 {
			folder := fmt.Sprintf("usr/share/doc%d/pkg%d", d%7, d)
			if err := w.Mkdir(folder, 0o755); err != nil {
				b.Fatal(err)
			}
			entries++
			for f := range 10 {
				fw, err := w.Create(fmt.Sprintf("%s/file%d", folder, f), 0o644)
				if err != nil {
					b.Fatal(err)
				}
				fw.Write(content)
				fw.Close()
				entries++
			}
			for l := range 2 {
				if err := w.Symlink(fmt.Sprintf("%s/link%d", folder, l), "file0"); err != nil {
					b.Fatal(err)
				}
				entries++
			}
		}
		w.Close()
		if n := w.Files(); n != 2000 {
			b.Fatalf("%d files", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*entries), "ns/entry")
}
