// Package tokens holds fwaudit's own API-token rules (tokens.yaml,
// embedded at build time) for credentials gitleaks' default configuration
// does not know — IoT platform connection strings and device secrets —
// and the allow list every token finding passes through. Each rule has the
// shared rule header (rules/schema) plus keywords, one RE2 pattern with a
// group "secret" and a minimum entropy; the matching engine is
// analyzers/tokens/match, and rules/validate runs every rule's examples
// through the tokens analyzer.
package tokens

import _ "embed"

// YAML is the embedded tokens.yaml. Do not modify it.
//
//go:embed tokens.yaml
var YAML []byte
