package scan

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// syft leaves the host's runtime file systems out of a directory scan
// (syft/internal/fileresolver/path_skipper.go): every path on a proc,
// sysfs or devtmpfs mount, and paths on a tmpfs under /dev, /run, /sys,
// /var/run or /var/lock. A work folder there (/dev/shm, a
// $XDG_RUNTIME_DIR under /run/user) would be catalogued as empty: the
// SBOM would miss every package syft finds, silently. syftSkipped tells
// such a folder, so the scan refuses it instead (TestSyftSkipsRuntimeMounts
// checks that syft still does this).
var (
	syftSkippedTypes    = map[string]bool{"proc": true, "procfs": true, "sysfs": true, "devfs": true, "devtmpfs": true, "udev": true}
	syftSkippedTmpPaths = []string{"/run", "/dev", "/var/run", "/var/lock", "/sys"}
)

// syftSkipped returns why syft would skip the files under dir, or "".
func syftSkipped(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return ""
	}
	return syftSkippedIn(abs, mounts)
}

// syftSkippedIn is syftSkipped with the mounts given.
func syftSkippedIn(path string, mounts []*mountinfo.Info) string {
	ms := append([]*mountinfo.Info(nil), mounts...)
	sort.SliceStable(ms, func(i, j int) bool { return len(ms[i].Mountpoint) > len(ms[j].Mountpoint) })
	for _, m := range ms {
		if !underPath(path, m.Mountpoint) {
			continue
		}
		if syftSkippedTypes[m.FSType] {
			return fmt.Sprintf("it is on a %s mount (%s)", m.FSType, m.Mountpoint)
		}
		if m.FSType != "tmpfs" {
			return "" // the most specific mount decides
		}
		for _, p := range syftSkippedTmpPaths {
			if underPath(path, p) {
				return fmt.Sprintf("it is on a tmpfs under %s", p)
			}
		}
	}
	return ""
}

// underPath reports whether p is dir or below it.
func underPath(p, dir string) bool {
	p, dir = strings.TrimSuffix(p, "/"), strings.TrimSuffix(dir, "/")
	return p == dir || dir == "" || strings.HasPrefix(p, dir+"/")
}
