package detect

import (
	"fmt"
	"github.com/fwaudit/fwaudit/internal/glob"
	"regexp"
	"strings"

	"github.com/fwaudit/fwaudit/rules/credentials"
	"github.com/fwaudit/fwaudit/rules/schema"
)

// ProgramRule is a detector of passwords compared as literals inside
// programs (programs.yaml). The analyzer reads the read-only strings of the
// ELF programs its Files select, in file order; a string within Window
// strings of one matching Context, that passes the length bounds and no
// Reject expression and is not one of Users, is the secret, when the
// program imports one of Compare (statically linked programs, which import
// nothing, are read too). The nearest string of Users in the window is the
// account.
type ProgramRule struct {
	schema.Header   `yaml:",inline"`
	Rule            string   `yaml:"rule"`
	DefaultSeverity string   `yaml:"default_severity"`
	Files           []string `yaml:"files"`
	Exclude         []string `yaml:"exclude"`
	Compare         []string `yaml:"compare"`
	Context         string   `yaml:"context"`
	Window          int      `yaml:"window"`
	MinLen          int      `yaml:"min_len"`
	MaxLen          int      `yaml:"max_len"`
	// MinClasses: a literal mixes at least this many of lower case, upper
	// case, digits and symbols, or is all digits (a PIN).
	MinClasses int                                       `yaml:"min_classes"`
	Users      []string                                  `yaml:"users"`
	Reject     []string                                  `yaml:"reject"`
	Examples   schema.Examples[ProgramExample, []string] `yaml:"examples"`

	globs, excludes *glob.Set
	context         *regexp.Regexp
	reject          []*regexp.Regexp
	users           map[string]bool
}

// ProgramExample is a program's strings (in order) that must give a match
// with this secret (and user, when given).
type ProgramExample struct {
	Strings []string `yaml:"strings"`
	User    string   `yaml:"user"`
	Secret  string   `yaml:"secret"`
}

// ParsePrograms reads and compiles detectors in the programs.yaml format.
// Later files override the first, as in Parse.
func ParsePrograms(files ...[]byte) ([]*ProgramRule, error) {
	return schema.Load("credentials programs", (*ProgramRule).compile, files...)
}

func (r *ProgramRule) compile() error {
	if r.Rule == "" {
		r.Rule = r.ID
	}
	if len(r.Files) == 0 || r.Context == "" || r.Window < 1 || r.MinLen < 1 || r.MaxLen < r.MinLen || len(r.Guidelines) == 0 {
		return fmt.Errorf("files, context, window, min_len <= max_len and guidelines are required")
	}
	if r.DefaultSeverity == "" {
		r.DefaultSeverity = r.Severity
	}
	if !schema.ValidSeverity(r.DefaultSeverity) {
		return fmt.Errorf("default_severity %q", r.DefaultSeverity)
	}
	var err error
	if r.globs, err = glob.CompileSet(r.Files); err != nil {
		return err
	}
	if r.excludes, err = glob.CompileSet(r.Exclude); err != nil {
		return err
	}
	if r.context, err = regexp.Compile(r.Context); err != nil {
		return fmt.Errorf("context: %w", err)
	}
	for _, x := range r.Reject {
		re, err := regexp.Compile(x)
		if err != nil {
			return fmt.Errorf("reject: %w", err)
		}
		r.reject = append(r.reject, re)
	}
	r.users = map[string]bool{}
	for _, u := range r.Users {
		r.users[strings.ToLower(u)] = true
	}
	return nil
}

// DefaultPrograms returns the built-in program detectors.
func DefaultPrograms() []*ProgramRule {
	r, err := ParsePrograms(credentials.ProgramsYAML)
	if err != nil {
		panic("credentials: embedded programs.yaml: " + err.Error())
	}
	return r
}

// MatchesPath reports whether the detector reads the program at p.
func (r *ProgramRule) MatchesPath(p string) bool {
	p = strings.TrimPrefix(p, "/")
	return !r.excludes.Match(p) && r.globs.Match(p)
}

// IsContext reports whether s names the password (field or message).
func (r *ProgramRule) IsContext(s string) bool { return r.context.MatchString(s) }

// IsUser reports whether s is one of the detector's account names.
func (r *ProgramRule) IsUser(s string) bool { return r.users[strings.ToLower(s)] }

// IsCandidate reports whether s can be a password literal.
func (r *ProgramRule) IsCandidate(s string) bool {
	if len(s) < r.MinLen || len(s) > r.MaxLen || r.IsUser(s) || r.IsContext(s) {
		return false
	}
	for _, re := range r.reject {
		if re.MatchString(s) {
			return false
		}
	}
	var lower, upper, digit, other int
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z':
			lower = 1
		case c >= 'A' && c <= 'Z':
			upper = 1
		case c >= '0' && c <= '9':
			digit = 1
		case c > ' ' && c < 0x7f:
			other = 1
		default:
			return false // not printable ASCII
		}
	}
	if digit == 1 && lower+upper+other == 0 {
		return true
	}
	return lower+upper+digit+other >= r.MinClasses
}
