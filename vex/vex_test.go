package vex

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fwaudit/fwaudit/internal/testcorpus"
	rules "github.com/fwaudit/fwaudit/rules/vex"
)

func complete(names []string) Names {
	n := Names{Set: map[string]bool{}, Complete: true, Source: "example"}
	for _, s := range names {
		n.Set[s] = true
	}
	return n
}

// exampleFacts turns a rule example into the facts Decide reads: a list
// given is complete; a kind not given is unknown.
func exampleFacts(comp string, ex rules.Example) Facts {
	f := Facts{Component: comp, Version: ex.Version}
	if f.Version == "" {
		f.Version = "1.0"
	}
	if ex.Applets != nil {
		f.Applets = complete(ex.Applets)
	}
	if ex.Programs != nil {
		f.Programs = complete(ex.Programs)
	}
	if ex.Symbols != nil {
		f.Symbols = complete(ex.Symbols)
	}
	if ex.Arch != "" {
		f.Arch = []Arch{{Path: "/bin/x", Machine: ex.Arch, Endian: "big", Class: 32}}
	}
	if ex.KernelConfig != nil {
		f.KernelConfig = ex.KernelConfig
		f.KernelConfigSource = "example .config"
	}
	f.Modules = Names{Set: map[string]bool{}, Source: "example"}
	for _, m := range ex.KernelModules {
		f.Modules.Set[m] = true
	}
	return f
}

// TestRuleExamples runs every example of every rule through Decide, for
// every component and CVE the rule names.
func TestRuleExamples(t *testing.T) {
	rs := DefaultRules()
	for _, r := range rules.Default().Rules {
		t.Run(r.ID, func(t *testing.T) {
			for _, comp := range r.Components {
				for _, cve := range r.CVEs {
					for i, ex := range r.Examples {
						a := rs.Decide(cve, exampleFacts(comp, ex))
						if a.State != ex.Want {
							t.Errorf("%s %s example %d (%+v): state %s, want %s (%s)", comp, cve, i, ex, a.State, ex.Want, a.Detail)
						}
						if a.Rule != r.ID {
							t.Errorf("%s %s: decided by rule %q", comp, cve, a.Rule)
						}
						if a.State == NotAffected && (a.Justification != CodeNotPresent || len(a.Evidence) == 0) {
							t.Errorf("%s %s example %d: not_affected without justification/evidence: %+v", comp, cve, i, a)
						}
					}
				}
			}
		})
	}
}

func TestNoRuleIsAffected(t *testing.T) {
	a := DefaultRules().Decide("CVE-2016-5195", Facts{Component: "linux_kernel", Version: "2.6.31"})
	if a.State != Affected || a.Rule != "" || a.Justification != "" {
		t.Fatalf("a CVE without a rule must stay affected: %+v", a)
	}
}

func TestRulesRejectBadSets(t *testing.T) {
	bad := []string{
		"format: 1\nrules:\n  - {id: x, components: [busybox], cves: [CVE-2016-6301], needs: {applets: [ntpd]}, why: w, source: s, examples: [{applets: [ntpd], want: affected}]}\n",
		"format: 1\nrules:\n  - {id: x, components: [busybox], cves: [CVE-1], needs: {applets: [ntpd]}, why: w, source: s, examples: [{applets: [ntpd], want: affected}, {applets: [ls], want: not_affected}]}\n",
		"format: 1\nrules:\n  - {id: x, components: [busybox], cves: [CVE-2016-6301], needs: {arch: [vax]}, why: w, source: s, examples: [{arch: vax, want: affected}, {arch: mips, want: not_affected}]}\n",
		"format: 1\nrules:\n  - {id: x, components: [busybox], cves: [CVE-2016-6301], needs: {applets: [ntpd]}, why: w, examples: [{applets: [ntpd], want: affected}, {applets: [ls], want: not_affected}]}\n",
		"format: 1\nrules:\n  - {id: x, components: [busybox], cves: [CVE-2016-6301], needs: {applets: [ntpd]}, why: w, source: s, unknown: 1, examples: [{applets: [ntpd], want: affected}, {applets: [ls], want: not_affected}]}\n",
	}
	for i, y := range bad {
		if _, err := rules.Parse([]byte(y)); err == nil {
			t.Errorf("bad rule set %d accepted", i)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"0.5.9", "1.0", -1}, {"2.10", "2.9", 1}, {"0.7.3", "0.7.3", 0}, {"2012.55", "2016.74", -1}, {"1.0.1g", "1.0.1", 1}} {
		got, ok := CompareVersions(c.a, c.b)
		if !ok || got != c.want {
			t.Errorf("CompareVersions(%s, %s) = %d, %v; want %d", c.a, c.b, got, ok, c.want)
		}
	}
	if _, ok := CompareVersions("unknown", "1.0"); ok {
		t.Error("a version without a number compared")
	}
}

func TestAppletTable(t *testing.T) {
	// the layout of BusyBox 1.01's names (aligned, NUL padded) and of
	// applet_names since 1.15 (packed), among other strings
	old := []byte("usage: %s\x00\x00\x00[\x00\x00\x00arping\x00\x00cat\x00chmod\x00\x00\x00msh\x00sh\x00\x00tftp\x00\x00\x00\x00udhcpc\x00\x00\x00\x00\x00zz-not-a-table\x01")
	got := AppletTable(old)
	want := []string{"[", "arping", "cat", "chmod", "msh", "sh", "tftp", "udhcpc"}
	if !slices.Equal(got, want) {
		t.Errorf("old table: %q, want %q", got, want)
	}
	packed := []byte("\x00Usage\x00[\x00[[\x00acpid\x00ash\x00awk\x00ls\x00ntpd\x00\x00\x01\x02")
	if got := AppletTable(packed); !slices.Equal(got, []string{"[", "[[", "acpid", "ash", "awk", "ls", "ntpd"}) {
		t.Errorf("packed table: %q", got)
	}
	// sorted words that hold no common applet are not a table
	if got := AppletTable([]byte("\x00alpha\x00beta\x00delta\x00gamma\x00omega\x00")); got != nil {
		t.Errorf("word list taken for an applet table: %q", got)
	}
}

// elfStub is a minimal ELF header for machine m.
func elfStub(m elf.Machine, big bool) []byte {
	b := make([]byte, 64)
	copy(b, elf.ELFMAG)
	b[4] = byte(elf.ELFCLASS32)
	if big {
		b[5] = byte(elf.ELFDATA2MSB)
		binary.BigEndian.PutUint16(b[18:], uint16(m))
	} else {
		b[5] = byte(elf.ELFDATA2LSB)
		binary.LittleEndian.PutUint16(b[18:], uint16(m))
	}
	return b
}

// TestCollectTree gathers facts from a small tree: a BusyBox binary with
// an applet table and links, a dropbearmulti with links, a MIPS uClibc.
func TestCollectTree(t *testing.T) {
	bb := append(elfStub(elf.EM_MIPS, true), []byte("\x00[\x00\x00\x00arping\x00\x00cat\x00msh\x00sh\x00\x00udhcpc\x00\x00")...)
	db := append(elfStub(elf.EM_MIPS, true), []byte("\x00dropbear\x00dbclient\x00dropbearkey\x00")...)
	dir := testcorpus.Tree(t, map[string]string{
		"bin/busybox":                    string(bb),
		"bin/sh":                         "->busybox",
		"sbin/udhcpc":                    "->../bin/busybox",
		"usr/sbin/dropbearmulti":         string(db),
		"usr/bin/dbclient":               "->/usr/sbin/dropbearmulti",
		"lib/libuClibc-0.9.30.so":        string(elfStub(elf.EM_MIPS, true)),
		"lib/modules/2.6.31/x_tables.ko": string(elfStub(elf.EM_MIPS, true)),
	})
	tg := testcorpus.DirTarget(t, dir)
	c := NewCollector(tg)
	rs := DefaultRules()

	f := c.Facts("busybox", "1.01", []string{"test"}, []string{"/bin/busybox"})
	if !f.Applets.Complete || !f.Applets.Set["udhcpc"] || f.Applets.Set["ntpd"] {
		t.Fatalf("applets: %+v", f.Applets)
	}
	if !strings.Contains(f.Applets.Source, "2 links") {
		t.Errorf("links not counted: %s", f.Applets.Source)
	}
	if a := rs.Decide("CVE-2016-6301", f); a.State != NotAffected || !strings.Contains(strings.Join(a.Evidence, " "), "no applet ntpd") {
		t.Errorf("ntpd CVE: %+v", a)
	}
	if a := rs.Decide("CVE-2016-2148", f); a.State != Affected {
		t.Errorf("udhcpc CVE: %+v", a)
	}

	f = c.Facts("dropbear", "2012.55", []string{"test"}, []string{"/usr/sbin/dropbearmulti"})
	if a := rs.Decide("CVE-2016-7408", f); a.State != Affected {
		t.Errorf("dbclient CVE: %+v", a)
	}
	if a := rs.Decide("CVE-2016-7407", f); a.State != NotAffected {
		t.Errorf("dropbearconvert CVE: %+v", a)
	}

	f = c.Facts("uclibc", "0.9.30", []string{"test"}, []string{"/lib/libuClibc-0.9.30.so"})
	a := rs.Decide("CVE-2016-6264", f)
	if a.State != NotAffected || !strings.Contains(a.Evidence[0], "MIPS big-endian") {
		t.Errorf("ARM memset CVE on MIPS: %+v", a)
	}

	f = c.Facts("linux_kernel", "2.6.31", []string{"test"}, []string{"/lib/modules/2.6.31/x_tables.ko"})
	if a := rs.Decide("CVE-2021-22555", f); a.State != Affected || !strings.Contains(a.Evidence[0], "x_tables.ko") {
		t.Errorf("x_tables CVE: %+v", a)
	}
}

func TestKernelConfig(t *testing.T) {
	cfg := "# CONFIG_NETFILTER_XTABLES is not set\nCONFIG_NETFILTER=y\nCONFIG_LOCALVERSION=\"\"\n"
	dir := testcorpus.Tree(t, map[string]string{"boot/config-4.14.0": cfg, "boot/vmlinux": string(elfStub(elf.EM_ARM, false))})
	c := NewCollector(testcorpus.DirTarget(t, dir))
	f := c.Facts("linux_kernel", "4.14.0", []string{"test"}, []string{"/boot/vmlinux"})
	if f.KernelConfig["CONFIG_NETFILTER_XTABLES"] != "n" || f.KernelConfigSource != "/boot/config-4.14.0" {
		t.Fatalf("config: %v from %q", f.KernelConfig, f.KernelConfigSource)
	}
	if a := DefaultRules().Decide("CVE-2021-22555", f); a.State != NotAffected {
		t.Errorf("x_tables configured out: %+v", a)
	}
}

// TestRealBusyBox reads the applet table of a real BusyBox 1.31.0 build.
func TestRealBusyBox(t *testing.T) {
	p := testcorpus.Shared(t, "real/busybox-1.31.0-mips")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	table := AppletTable(b)
	if len(table) < 50 || !slices.Contains(table, "ash") || !slices.IsSorted(table) {
		t.Fatalf("applet table of %s: %d names %q", filepath.Base(p), len(table), table)
	}
	// every name of the table is in the binary NUL-terminated
	for _, s := range table {
		if !bytes.Contains(b, []byte("\x00"+s+"\x00")) && !bytes.HasPrefix(b, []byte(s+"\x00")) {
			t.Errorf("%q not in the binary", s)
		}
	}
}
