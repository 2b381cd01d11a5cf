// Package services holds fwaudit's rules for exposed services (Code of
// Practice guideline 6, and 5 for plaintext protocols): services.yaml,
// embedded at build time. The format (the shared rule header of
// rules/schema plus a kind and its match fields) and the matching engine are
// in analyzers/services/match; rules/validate runs every rule's examples
// through the services analyzer.
package services

import _ "embed"

// YAML is the embedded services.yaml. Do not modify it.
//
//go:embed services.yaml
var YAML []byte
