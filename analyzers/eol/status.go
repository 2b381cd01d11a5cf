package eol

import "github.com/fwaudit/fwaudit/analyzers"

// Status is the end-of-life status a finding of this analyzer gives the
// component it is about.
type Status string

const (
	// Ended: the component's release line reached its end of life (or the
	// project was discontinued).
	Ended Status = "end-of-life"
	// Stale: the version is older than the policy allows.
	Stale Status = "stale"
)

// ComponentKey is the fingerprint this analyzer's findings carry: that of
// "name@version", so a component of any source (the firmware catalog, the
// SBOM) finds its status.
func ComponentKey(name, version string) string {
	return analyzers.Fingerprint(name + "@" + version)
}

// StatusOf says which end-of-life status f gives its component (the one
// whose ComponentKey is f.Fingerprint); ok is false for a finding that is
// not an end-of-life judgement.
func StatusOf(f analyzers.Finding) (s Status, ok bool) {
	switch f.Rule {
	case RuleEOL:
		return Ended, true
	case RuleStale:
		return Stale, true
	}
	return "", false
}
