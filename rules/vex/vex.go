// Package vex holds fwaudit's applicability knowledge (vex.yaml, embedded
// at build time): which vulnerability needs which part of a component to
// be present in the image — a BusyBox applet, a program of a multi-call
// binary, an exported symbol, a CPU architecture, a kernel option, or a
// release in which the vulnerable code first appeared — each with the
// source of that fact and true/false examples.
//
// This package only loads and validates the data; the decisions are made
// by github.com/fwaudit/fwaudit/vex, whose tests run every example through
// the real decision code.
package vex

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed vex.yaml
var defaultYAML []byte

// FormatVersion is the layout version of vex.yaml.
const FormatVersion = 1

// File is a set of applicability rules.
type File struct {
	Format int    `yaml:"format"`
	Rules  []Rule `yaml:"rules"`
}

// Rule ties vulnerabilities of a component to what the vulnerable code
// needs. Every condition in Needs must hold for the component to be
// affected; one that the image shows does not hold makes it not affected
// (the vulnerable code is not present).
type Rule struct {
	ID string `yaml:"id"`
	// Components are the component names (as the classifiers in
	// rules/components and syft name them) the rule is about.
	Components []string `yaml:"components,flow"`
	// CVEs are the vulnerabilities the rule decides.
	CVEs  []string `yaml:"cves,flow"`
	Needs Needs    `yaml:"needs"`
	// Why says in a sentence what the vulnerable code is.
	Why string `yaml:"why"`
	// Source is where the fact comes from (NVD description, upstream
	// change log or commit, the vulnerable file's path).
	Source   string    `yaml:"source"`
	Examples []Example `yaml:"examples"`
}

// Needs are the conditions; each list is "any of".
type Needs struct {
	// Applets: BusyBox applets, one of which must be compiled in.
	Applets []string `yaml:"applets,omitempty,flow"`
	// Programs: parts of a multi-call binary (dropbear's dbclient, scp,
	// dropbearconvert), one of which must be built in.
	Programs []string `yaml:"programs,omitempty,flow"`
	// Symbols: exported function names (dynamic symbol table), one of
	// which must be present ("SSLv2_method").
	Symbols []string `yaml:"symbols,omitempty,flow"`
	// Arch: ELF machines (lower case, debug/elf's name without EM_:
	// "arm", "mips", "aarch64", "x86_64", "386", "ppc"; a 64-bit MIPS file
	// is "mips64") the vulnerable code exists on.
	Arch []string `yaml:"arch,omitempty,flow"`
	// Introduced: the first release that has the vulnerable code; older
	// versions do not.
	Introduced string `yaml:"introduced,omitempty"`
	// KernelConfig: kernel options (CONFIG_...), one of which must be y or
	// m; KernelModules: module names whose presence shows it is.
	KernelConfig  []string `yaml:"kernel_config,omitempty,flow"`
	KernelModules []string `yaml:"kernel_modules,omitempty,flow"`
}

// Example is evidence from an image and the state the rule must give.
type Example struct {
	Version       string            `yaml:"version,omitempty"`
	Applets       []string          `yaml:"applets,omitempty,flow"`
	Programs      []string          `yaml:"programs,omitempty,flow"`
	Symbols       []string          `yaml:"symbols,omitempty,flow"`
	Arch          string            `yaml:"arch,omitempty"`
	KernelConfig  map[string]string `yaml:"kernel_config,omitempty"`
	KernelModules []string          `yaml:"kernel_modules,omitempty,flow"`
	// Want is "affected", "not_affected" or "under_investigation".
	Want string `yaml:"want"`
}

var (
	idRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	cveRe   = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	cfgRe   = regexp.MustCompile(`^CONFIG_[A-Z0-9_]+$`)
	nameRe  = regexp.MustCompile(`^[A-Za-z0-9_\[][A-Za-z0-9_.\-\[\]]*$`)
	archSet = map[string]bool{"arm": true, "aarch64": true, "mips": true, "mips64": true, "x86_64": true, "386": true, "ppc": true, "ppc64": true, "riscv": true, "sparc": true, "sparcv9": true, "s390": true, "sh": true}
)

// Validate checks the set: known layout, unique ids, one rule per
// component and CVE, well-formed conditions, a source and at least one
// affected and one not_affected example per rule.
func (f *File) Validate() error {
	if f.Format != FormatVersion {
		return fmt.Errorf("format %d, want %d", f.Format, FormatVersion)
	}
	ids := map[string]bool{}
	pairs := map[string]string{}
	for i, r := range f.Rules {
		where := fmt.Sprintf("rule %d (%s)", i, r.ID)
		if !idRe.MatchString(r.ID) || ids[r.ID] {
			return fmt.Errorf("%s: bad or duplicate id", where)
		}
		ids[r.ID] = true
		if len(r.Components) == 0 || len(r.CVEs) == 0 {
			return fmt.Errorf("%s: needs components and cves", where)
		}
		if r.Source == "" || r.Why == "" {
			return fmt.Errorf("%s: needs why and source", where)
		}
		for _, c := range r.CVEs {
			if !cveRe.MatchString(c) {
				return fmt.Errorf("%s: bad CVE id %q", where, c)
			}
			for _, comp := range r.Components {
				k := comp + " " + c
				if other, ok := pairs[k]; ok {
					return fmt.Errorf("%s: %s already decided by rule %s", where, k, other)
				}
				pairs[k] = r.ID
			}
		}
		n := r.Needs
		if len(n.Applets)+len(n.Programs)+len(n.Symbols)+len(n.Arch)+len(n.KernelConfig)+len(n.KernelModules) == 0 && n.Introduced == "" {
			return fmt.Errorf("%s: no conditions", where)
		}
		if len(n.KernelModules) > 0 && len(n.KernelConfig) == 0 {
			return fmt.Errorf("%s: kernel_modules need kernel_config", where)
		}
		for _, s := range append(append(append(append([]string{}, n.Applets...), n.Programs...), n.Symbols...), n.KernelModules...) {
			if !nameRe.MatchString(s) {
				return fmt.Errorf("%s: bad name %q", where, s)
			}
		}
		for _, a := range n.Arch {
			if !archSet[a] {
				return fmt.Errorf("%s: unknown arch %q", where, a)
			}
		}
		for _, c := range n.KernelConfig {
			if !cfgRe.MatchString(c) {
				return fmt.Errorf("%s: bad kernel option %q", where, c)
			}
		}
		wants := map[string]bool{}
		for _, ex := range r.Examples {
			switch ex.Want {
			case "affected", "not_affected", "under_investigation":
			default:
				return fmt.Errorf("%s: example wants %q", where, ex.Want)
			}
			wants[ex.Want] = true
		}
		if !wants["affected"] || !wants["not_affected"] {
			return fmt.Errorf("%s: needs an affected and a not_affected example", where)
		}
	}
	return nil
}

// Parse decodes and validates a rule set; unknown fields are errors.
func Parse(b []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vex rules: %w", err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("vex rules: %w", err)
	}
	return &f, nil
}

var defaults = sync.OnceValues(func() (*File, error) { return Parse(defaultYAML) })

// Default returns the embedded rules (parsed once; do not modify them).
func Default() *File {
	f, err := defaults()
	if err != nil {
		panic("vex: embedded vex.yaml: " + err.Error())
	}
	return f
}
