package scan

import (
	"fmt"
	"os"
	"time"

	"github.com/fwaudit/fwaudit/analyzers"
	"github.com/fwaudit/fwaudit/analyzers/accounts"
	"github.com/fwaudit/fwaudit/analyzers/certificates"
	"github.com/fwaudit/fwaudit/analyzers/credentials"
	"github.com/fwaudit/fwaudit/analyzers/eol"
	"github.com/fwaudit/fwaudit/analyzers/integrity"
	"github.com/fwaudit/fwaudit/analyzers/keys"
	"github.com/fwaudit/fwaudit/analyzers/rulesets"
	"github.com/fwaudit/fwaudit/analyzers/services"
	"github.com/fwaudit/fwaudit/analyzers/tokens"
	"github.com/fwaudit/fwaudit/analyzers/transport"
	"github.com/fwaudit/fwaudit/rules/passwords"
)

// Rules lets the user extend or replace the embedded rule data.
type Rules struct {
	// PasswordFiles are extra dictionaries (one password per line, '#'
	// comments), tried before the embedded list.
	PasswordFiles []string
	// ReplacePasswords uses only PasswordFiles, not the embedded list.
	ReplacePasswords bool
	// ScanDate is the date end-of-life and staleness are judged on; zero
	// means today.
	ScanDate time.Time
	// StaleYears: a component released more than this many years before
	// the scan date is stale; 0 means the rules' default (5), negative
	// turns staleness findings off.
	StaleYears int
	// MaxHashWork bounds the password-cracking work per image (see
	// extract.Limits.MaxHashWork); 0 means the default.
	MaxHashWork int64
	// Dir is a folder of rule files that extend or override the embedded
	// rules (credentials.yaml, programs.yaml, services.yaml,
	// transport.yaml, tokens.yaml, components.yaml; see analyzers/rulesets);
	// "" means none.
	Dir string
}

// Default returns the analyzers a scan runs with the embedded rules.
func Default() []analyzers.Analyzer {
	list, _ := Analyzers(Rules{})
	return list
}

// Analyzers returns the analyzers a scan runs with the given rules.
func Analyzers(r Rules) ([]analyzers.Analyzer, error) {
	var pw []string
	for _, f := range r.PasswordFiles {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		words, err := passwords.Parse(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		pw = append(pw, words...)
	}
	if len(r.PasswordFiles) > 0 && !r.ReplacePasswords {
		pw = append(pw, passwords.Defaults()...)
	}
	if r.ReplacePasswords && len(pw) == 0 {
		return nil, fmt.Errorf("--passwords-only needs at least one non-empty --passwords file")
	}
	date := r.ScanDate
	if date.IsZero() {
		date = time.Now().UTC()
	}
	cred, svc, tok, trans := credentials.New(), services.New(), tokens.New(), transport.New()
	eolA := eol.New(date, eol.Policy{StaleYears: r.StaleYears})
	if r.Dir != "" {
		sets, err := rulesets.Load(r.Dir)
		if err != nil {
			return nil, err
		}
		cred, svc, tok, trans = sets.Analyzers(rulesets.Options{})
		// the folder's components.yaml: the eol analyzer's catalogue, and
		// through it the scan's components stage (components.RulesOf)
		eolA.Components = sets.Components
	}
	return []analyzers.Analyzer{
		accounts.New(accounts.Options{Passwords: dedupe(pw), MaxWork: r.MaxHashWork}),
		certificates.New(date),
		cred,
		keys.New(),
		svc,
		tok,
		trans,
		eolA,
		integrity.New(),
	}, nil
}

func dedupe(words []string) []string {
	if words == nil {
		return nil
	}
	seen := make(map[string]bool, len(words))
	out := words[:0:0]
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
