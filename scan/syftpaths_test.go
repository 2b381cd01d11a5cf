package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/fwaudit/fwaudit/extract"
)

func TestSyftSkippedIn(t *testing.T) {
	mounts := []*mountinfo.Info{
		{Mountpoint: "/", FSType: "ext4"},
		{Mountpoint: "/dev", FSType: "devtmpfs"},
		{Mountpoint: "/dev/shm", FSType: "tmpfs"},
		{Mountpoint: "/run", FSType: "tmpfs"},
		{Mountpoint: "/proc", FSType: "proc"},
		{Mountpoint: "/tmp", FSType: "tmpfs"},
		{Mountpoint: "/mnt/work", FSType: "tmpfs"},
		{Mountpoint: "/run/data", FSType: "ext4"},
	}
	for _, c := range []struct {
		path string
		skip bool
	}{
		{"/dev/shm/fwaudit-1/layers", true}, // tmpfs under /dev
		{"/run/user/0/fwaudit-1", true},     // tmpfs under /run
		{"/proc/self", true},                // proc
		{"/tmp/fwaudit-1", false},           // tmpfs elsewhere
		{"/mnt/work/x", false},              // tmpfs elsewhere
		{"/run/data/fwaudit-1", false},      // the most specific mount is ext4
		{"/var/tmp/fwaudit-1", false},       // ext4
		{"/devices/fwaudit-1", false},       // not under /dev
		{"/dev", true},
	} {
		why := syftSkippedIn(c.path, mounts)
		if (why != "") != c.skip {
			t.Errorf("%s: skipped %q, want skipped=%v", c.path, why, c.skip)
		}
	}
}

// TestSyftSkipsRuntimeMounts checks the premise of syftSkipped on this
// machine: syft catalogues the BusyBox of flash.bin in a folder of the
// temp dir, and nothing when the same folder is under /dev/shm. When this
// fails because syft catalogues both, syftSkipped can go.
func TestSyftSkipsRuntimeMounts(t *testing.T) {
	shm := "/dev/shm"
	if why := syftSkipped(shm); why == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not a tmpfs under /dev on the CI machine", shm)
		}
		t.Skipf("%s is not a tmpfs here", shm)
	}
	if why := syftSkipped(t.TempDir()); why != "" {
		t.Skipf("the temp dir itself is skipped by syft (%s): set TMPDIR elsewhere", why)
	}
	shmDir, err := os.MkdirTemp(shm, "fwaudit-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(shmDir)
	names := func(work string) []string {
		res, err := extract.Extract(context.Background(), filepath.Join("..", "testdata", "firmware", "flash.bin"), work, extract.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range res.Layers {
			if l.Format != "squashfs" {
				continue
			}
			r := catalogLayer(context.Background(), l, syftClassify)
			if r.err != nil {
				t.Fatal(r.err)
			}
			for _, p := range r.sbom.Artifacts.Packages.Sorted() {
				out = append(out, p.Name)
			}
		}
		return out
	}
	if got := names(filepath.Join(t.TempDir(), "work")); !strings.Contains(strings.Join(got, " "), "busybox") {
		t.Fatalf("syft found %v in the temp dir, want busybox", got)
	}
	if got := names(filepath.Join(shmDir, "work")); len(got) != 0 {
		t.Fatalf("syft found %v under %s: it no longer skips it, syftSkipped can go", got, shm)
	}
}

func TestScanRefusesWorkDirSyftSkips(t *testing.T) {
	shm := "/dev/shm"
	if syftSkipped(shm) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not a tmpfs under /dev on the CI machine", shm)
		}
		t.Skipf("%s is not a tmpfs here", shm)
	}
	dir, err := os.MkdirTemp(shm, "fwaudit-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	img := filepath.Join("..", "testdata", "firmware", "flash.bin")
	_, err = Run(context.Background(), img, Options{WorkDir: dir, SkipVulns: true})
	if err == nil || !strings.Contains(err.Error(), "syft catalogues nothing") {
		t.Fatalf("scan with its work folder under %s: %v, want a refusal naming syft", shm, err)
	}
	// without an SBOM nothing depends on syft: the folder is fine
	res, err := Run(context.Background(), img, Options{WorkDir: dir, SkipVulns: true, SkipSBOM: true})
	if err != nil || res == nil || len(res.Report.Findings) == 0 {
		t.Fatalf("scan without SBOM under %s: %v", shm, err)
	}
}
