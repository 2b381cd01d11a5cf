// Package services holds fwaudit's rules for exposed services (Code of
// Practice guideline 6, and 5 for plaintext protocols): services.yaml,
// embedded at build time, and the rule engine that rules/transport shares.
//
// A rule has an id, a severity, guidelines, a title, a description (what
// it finds and why it matters), a fix (what to do about it), a kind and
// examples that must (true) or must not (false) fire it; the package test
// checks every example with the same matching code the analyzers use.
//
// Kinds:
//
//   - command: a service start found by following the boot sequence. The
//     rule applies to argv[0]'s base name in Programs; one of Patterns must
//     match the command line (argv joined by spaces) and none of Not. The
//     first rule in file order that fires wins, so the worst variant of a
//     service (telnetd -l /bin/sh) comes before the plain one. Context
//     console rules apply only to what inittab respawns on a console.
//   - line: lines of the files selected by Files (comments skipped); with
//     UnlessFile the rule is silent when any line of the file matches one of
//     those, and otherwise fires once per file.
//   - url: plain-HTTP URLs to public hosts in lines that match Require and
//     whose URL does not match Exclude (and matches Patterns, if any).
//   - uci: sections of OpenWrt UCI files whose type matches Section and whose
//     options satisfy all of Match and none of Unless (a missing option has
//     the empty value). The first rule that fires wins per section.
//   - xml: elements of an XML vendor configuration named like Section whose
//     attributes satisfy Match and not Unless. Every xml rule fires on its
//     own (one element can switch on several services).
//
// A named group "secret" in a pattern marks a credential the analyzer must
// redact; Secrets finds common ones (password=..., -p pass, user:pw@).
package services

import (
	_ "embed"
	"sync"
)

//go:embed services.yaml
var defaultYAML []byte

var defaults = sync.OnceValues(func() (*Set, error) { return Parse(defaultYAML) })

// Default returns the built-in service rules, compiled and shared: do not
// modify them.
func Default() *Set {
	s, err := defaults()
	if err != nil {
		panic("services: embedded services.yaml: " + err.Error())
	}
	return s
}
