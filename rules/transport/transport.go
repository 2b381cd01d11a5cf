// Package transport holds fwaudit's rules for insecure communication
// settings shipped in firmware (Code of Practice guideline 5): TLS
// certificate checks switched off, plain-HTTP update and cloud URLs, and
// open or WEP Wi-Fi in shipped configurations. The format and the matching
// engine are those of rules/services (see its package documentation);
// transport.yaml is embedded at build time and every rule's examples are
// checked by the package test.
package transport

import (
	_ "embed"
	"sync"

	"github.com/fwaudit/fwaudit/rules/services"
)

//go:embed transport.yaml
var defaultYAML []byte

var defaults = sync.OnceValues(func() (*services.Set, error) { return services.Parse(defaultYAML) })

// Default returns the built-in transport rules, compiled and shared: do
// not modify them.
func Default() *services.Set {
	s, err := defaults()
	if err != nil {
		panic("transport: embedded transport.yaml: " + err.Error())
	}
	return s
}
