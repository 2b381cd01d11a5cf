// Package credentials holds fwaudit's hard-coded credential detectors as
// data: credentials.yaml (patterns over text files) and programs.yaml
// (passwords compared as literals inside programs), embedded at build time.
// Each detector has the shared rule header (rules/schema) plus its match
// fields; the format and the matching engine are in
// analyzers/credentials/detect, and rules/validate runs every detector's
// examples through the credentials analyzer.
package credentials

import _ "embed"

// YAML is the embedded credentials.yaml. Do not modify it.
//
//go:embed credentials.yaml
var YAML []byte

// ProgramsYAML is the embedded programs.yaml. Do not modify it.
//
//go:embed programs.yaml
var ProgramsYAML []byte
