package scan

import (
	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/accounts"
)

// Default returns the analyzers a scan runs.
func Default() []analyzers.Analyzer {
	return []analyzers.Analyzer{
		accounts.New(accounts.Options{}),
	}
}
