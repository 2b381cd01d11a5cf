// Package components holds fwaudit's firmware component rules
// (components.yaml, embedded at build time): how to recognise BusyBox,
// dropbear, OpenSSL, the Linux kernel, U-Boot and other components that
// firmware ships without any package database, and which CPE and PURL name
// each one. They identify components (for the SBOMs and vulnerability
// matching) rather than report findings, so they have an id, a source and
// examples but no severity or guidelines. The format and the matching
// engine are in analyzers/components/match; rules/validate runs every
// rule's examples through the component catalogue.
package components

import _ "embed"

// YAML is the embedded components.yaml. Do not modify it.
//
//go:embed components.yaml
var YAML []byte
