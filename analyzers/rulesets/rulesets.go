// Package rulesets loads the rule sets the analyzers run: the rule files
// embedded from rules/, overridden by a user's rule folder (fwaudit scan
// --rules DIR, or rules_dir in .fwaudit.yaml).
//
// The folder holds files named for the set they extend, each in that set's
// format (the rule header of rules/schema plus the set's match fields):
//
//	credentials.yaml   text-file credential detectors (rules/credentials)
//	programs.yaml      passwords compared inside programs (rules/credentials)
//	services.yaml      exposed services (rules/services)
//	transport.yaml     insecure communication settings (rules/transport)
//	tokens.yaml        API tokens (rules/tokens)
//	components.yaml    component identification (rules/components), run
//	                   by the component catalogue for the SBOM, the
//	                   scan's components and the eol analyzer
//
// A rule whose id an embedded rule of the same set has replaces it (in
// place, so first-match-wins order is kept); any other rule is added. Any
// other file in the folder is an error, so that a misspelt name does not
// silently drop rules; so is a rule id used by two sets (schema.Registry,
// the code-matched rules of rules/builtin included).
package rulesets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fwaudit/fwaudit/analyzers"
	cmpmatch "github.com/fwaudit/fwaudit/analyzers/components/match"
	"github.com/fwaudit/fwaudit/analyzers/credentials"
	"github.com/fwaudit/fwaudit/analyzers/credentials/detect"
	"github.com/fwaudit/fwaudit/analyzers/services"
	svcmatch "github.com/fwaudit/fwaudit/analyzers/services/match"
	"github.com/fwaudit/fwaudit/analyzers/tokens"
	tokmatch "github.com/fwaudit/fwaudit/analyzers/tokens/match"
	"github.com/fwaudit/fwaudit/analyzers/transport"
	"github.com/fwaudit/fwaudit/rules/builtin"
	rulescmp "github.com/fwaudit/fwaudit/rules/components"
	rulescred "github.com/fwaudit/fwaudit/rules/credentials"
	"github.com/fwaudit/fwaudit/rules/schema"
	rulessvc "github.com/fwaudit/fwaudit/rules/services"
	rulestok "github.com/fwaudit/fwaudit/rules/tokens"
	rulestransport "github.com/fwaudit/fwaudit/rules/transport"
)

// MaxFileSize bounds one rule file of a user's folder.
const MaxFileSize = 4 << 20

// Files are the file names a rule folder may hold.
var Files = []string{"credentials.yaml", "programs.yaml", "services.yaml", "transport.yaml", "tokens.yaml", "components.yaml"}

// Sets are the compiled rule sets of the rule-file analyzers.
type Sets struct {
	Credentials []*detect.Rule
	Programs    []*detect.ProgramRule
	Services    *svcmatch.Set
	Transport   *svcmatch.Set
	Tokens      *tokmatch.Set
	// Components are the component identification rules (the component
	// catalogue's; give them to the eol analyzer, whose rules the scan's
	// components stage takes).
	Components []*cmpmatch.Rule
	// Dir is the user's folder ("" for the embedded rules only).
	Dir string
}

// Default returns the embedded rule sets.
func Default() *Sets {
	return &Sets{
		Credentials: detect.Default(),
		Programs:    detect.DefaultPrograms(),
		Services:    svcmatch.Services(),
		Transport:   svcmatch.Transport(),
		Tokens:      tokmatch.Default(),
		Components:  cmpmatch.Default(),
	}
}

// Load returns the embedded rule sets overridden by the rule files in dir
// ("" means none).
func Load(dir string) (*Sets, error) {
	if dir == "" {
		return Default(), nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("rules folder: %w", err)
	}
	user := map[string][]byte{}
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !slices.Contains(Files, e.Name()) {
			return nil, fmt.Errorf("rules folder %s: unknown rule file %q (want one of %s)", dir, e.Name(), strings.Join(Files, ", "))
		}
		b, err := readBounded(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		user[e.Name()] = b
	}
	with := func(embedded []byte, name string) [][]byte {
		if b, ok := user[name]; ok {
			return [][]byte{embedded, b}
		}
		return [][]byte{embedded}
	}
	s := &Sets{Dir: dir}
	wrap := func(name string, err error) error {
		if _, ok := user[name]; ok {
			return fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
		}
		return err
	}
	if s.Credentials, err = detect.Parse(with(rulescred.YAML, "credentials.yaml")...); err != nil {
		return nil, wrap("credentials.yaml", err)
	}
	if s.Programs, err = detect.ParsePrograms(with(rulescred.ProgramsYAML, "programs.yaml")...); err != nil {
		return nil, wrap("programs.yaml", err)
	}
	if s.Services, err = svcmatch.Parse(with(rulessvc.YAML, "services.yaml")...); err != nil {
		return nil, wrap("services.yaml", err)
	}
	if s.Transport, err = svcmatch.Parse(with(rulestransport.YAML, "transport.yaml")...); err != nil {
		return nil, wrap("transport.yaml", err)
	}
	if s.Tokens, err = tokmatch.Parse(with(rulestok.YAML, "tokens.yaml")...); err != nil {
		return nil, wrap("tokens.yaml", err)
	}
	s.Components = cmpmatch.Default()
	if b, ok := user["components.yaml"]; ok {
		if s.Components, err = cmpmatch.Parse(rulescmp.YAML, b); err != nil {
			return nil, wrap("components.yaml", err)
		}
	}
	if _, err := s.Registry(); err != nil {
		return nil, err
	}
	return s, nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, MaxFileSize)
	}
	return b, nil
}

// Registry records the id of every rule of every set (the code-matched
// rules of rules/builtin included), failing on an id two sets use.
func (s *Sets) Registry() (*schema.Registry, error) {
	var g schema.Registry
	var errs []error
	add := func(set string, ids []string) {
		sort.Strings(ids)
		if err := g.Add(set, ids...); err != nil {
			errs = append(errs, err)
		}
	}
	add("rules/builtin", idsOf(builtin.Default().Rules, func(d *builtin.Doc) string { return d.ID }))
	add("credentials", idsOf(s.Credentials, func(r *detect.Rule) string { return r.ID }))
	add("programs", idsOf(s.Programs, func(r *detect.ProgramRule) string { return r.ID }))
	add("services", idsOf(s.Services.Rules, func(r *svcmatch.Rule) string { return r.ID }))
	add("transport", idsOf(s.Transport.Rules, func(r *svcmatch.Rule) string { return r.ID }))
	add("tokens", idsOf(s.Tokens.Rules, func(r *tokmatch.Rule) string { return r.ID }))
	add("components", idsOf(s.Components, func(r *cmpmatch.Rule) string { return r.ID }))
	return &g, errors.Join(errs...)
}

// idsOf lists the ids of a rule set.
func idsOf[T any](rules []T, id func(T) string) []string {
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, id(r))
	}
	return ids
}

// Options are what Analyzers needs besides the rule sets.
type Options struct {
	// Credentials: the credentials analyzer's options; Rules and Programs
	// are set from the rule sets.
	Credentials credentials.Options
}

// Analyzers returns the rule-file analyzers (credentials, services, tokens,
// transport) running these rule sets.
func (s *Sets) Analyzers(opt Options) (cred, svc, tok, trans analyzers.Analyzer) {
	co := opt.Credentials
	co.Rules, co.Programs = s.Credentials, s.Programs
	cred = credentials.NewWith(co)
	svc = services.NewWithRules(s.Services)
	trans = transport.NewWithRules(s.Transport)
	if s.Dir == "" {
		tok = tokens.New()
	} else {
		tok = tokens.NewWithRules(s.Tokens)
	}
	return cred, svc, tok, trans
}
