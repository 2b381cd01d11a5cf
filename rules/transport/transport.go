// Package transport holds fwaudit's rules for insecure communication
// settings shipped in firmware (Code of Practice guideline 5): TLS
// certificate checks switched off, plain-HTTP update and cloud URLs, and
// open or WEP Wi-Fi in shipped configurations. transport.yaml is embedded
// at build time; its format and matching engine are those of the services
// rules (analyzers/services/match), and rules/validate runs every rule's
// examples through the transport analyzer.
package transport

import _ "embed"

// YAML is the embedded transport.yaml. Do not modify it.
//
//go:embed transport.yaml
var YAML []byte
