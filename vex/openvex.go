package vex

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	ovex "github.com/openvex/go-vex/pkg/vex"
)

// Item is one vulnerability of one component with its analysis.
type Item struct {
	Component string
	Version   string
	PURL      string
	CPEs      []string
	CVE       string
	// Fixed is the first fixed version, when known.
	Fixed    string
	Analysis Analysis
}

// Document describes the scan an OpenVEX document is about.
type Document struct {
	// ImageSHA256 is the hex SHA-256 of the scanned image (the product).
	ImageSHA256 string
	ImageName   string
	// Date is the scan date: the document's and statements' timestamp.
	Date time.Time
	// Tool is "fwaudit <version>".
	Tool string
}

// OpenVEX renders the analyses as an OpenVEX 0.2.0 document: the product
// is the image (by SHA-256), each statement one CVE of one component (a
// subcomponent, by purl and CPE). Ids and timestamps derive from the image
// hash and the scan date, and statements are sorted, so the same scan
// gives the same document. It returns nil when there are no items (the
// format needs at least one statement).
func OpenVEX(d Document, items []Item) ([]byte, error) {
	if len(items) == 0 {
		return nil, nil
	}
	day := time.Date(d.Date.Year(), d.Date.Month(), d.Date.Day(), 0, 0, 0, 0, time.UTC)
	doc := ovex.VEX{
		Metadata: ovex.Metadata{
			Context:    ovex.ContextLocator(),
			ID:         fmt.Sprintf("urn:fwaudit:vex:sha256:%s:%s", d.ImageSHA256, day.Format("2006-01-02")),
			Author:     "fwaudit",
			AuthorRole: "automated firmware analysis",
			Timestamp:  &day,
			Version:    1,
			Tooling:    d.Tool,
		},
	}
	sorted := append([]Item{}, items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.CVE != b.CVE {
			return cveLess(a.CVE, b.CVE)
		}
		if a.Component != b.Component {
			return a.Component < b.Component
		}
		return a.Version < b.Version
	})
	image := ovex.Component{
		ID:     "urn:sha256:" + d.ImageSHA256,
		Hashes: map[ovex.Algorithm]ovex.Hash{ovex.SHA256: ovex.Hash(d.ImageSHA256)},
	}
	for _, it := range sorted {
		sub := ovex.Subcomponent{Component: ovex.Component{ID: componentIRI(it)}}
		ids := map[ovex.IdentifierType]string{}
		if it.PURL != "" {
			ids[ovex.PURL] = it.PURL
		}
		// no CPE identifier: the OpenVEX JSON schema names it "@cpe23",
		// go-vex and the specification's text "cpe23"; the purl and the
		// status notes identify the component instead
		if len(ids) > 0 {
			sub.Identifiers = ids
		}
		a := it.Analysis
		st := ovex.Statement{
			ID:            fmt.Sprintf("urn:fwaudit:vex:sha256:%s:%s:%s", d.ImageSHA256[:min(16, len(d.ImageSHA256))], it.CVE, url.PathEscape(it.Component+"@"+it.Version)),
			Vulnerability: ovex.Vulnerability{Name: ovex.VulnerabilityID(it.CVE)},
			Timestamp:     &day,
			Products:      []ovex.Product{{Component: image, Subcomponents: []ovex.Subcomponent{sub}}},
			Status:        ovex.Status(a.State),
			StatusNotes:   notes(it),
		}
		switch a.State {
		case NotAffected:
			if a.Justification != "" {
				st.Justification = ovex.Justification(a.Justification)
			} else {
				st.ImpactStatement = a.Detail
			}
		case Affected:
			if it.Fixed != "" {
				st.ActionStatement = fmt.Sprintf("Update %s to %s or later (a release that fixes %s).", it.Component, it.Fixed, it.CVE)
			} else {
				st.ActionStatement = fmt.Sprintf("Update %s to a maintained release that fixes %s.", it.Component, it.CVE)
			}
		}
		doc.Statements = append(doc.Statements, st)
	}
	var buf bytes.Buffer
	if err := doc.ToJSON(&buf); err != nil {
		return nil, fmt.Errorf("vex.openvex.json: %w", err)
	}
	return buf.Bytes(), nil
}

func componentIRI(it Item) string {
	if it.PURL != "" {
		return it.PURL
	}
	return "urn:fwaudit:component:" + url.PathEscape(it.Component) + "@" + url.PathEscape(it.Version)
}

func notes(it Item) string {
	a := it.Analysis
	s := fmt.Sprintf("%s %s: %s", it.Component, it.Version, a.Detail)
	if len(a.Evidence) > 0 {
		s += " Evidence: " + strings.Join(a.Evidence, "; ") + "."
	}
	if a.Rule != "" {
		s += " Rule: " + a.Rule + " (" + a.Source + ")."
	}
	if a.By != "" && a.By != "fwaudit" {
		s += " Decided by " + a.By + "."
	}
	return s
}

// User is a user's OpenVEX file of decisions about vulnerabilities
// (--vex): statements that a CVE does not affect a component, or is fixed,
// with a justification. They override fwaudit's own analysis and are
// shown as such, never hidden.
type User struct {
	Path string
	doc  *ovex.VEX
}

// maxUserVEX bounds the size of a user VEX file.
const maxUserVEX = 16 << 20

// LoadUser reads an OpenVEX JSON file. Every statement must name a
// vulnerability and a valid status; a not_affected one needs a
// justification or an impact statement.
func LoadUser(p string) (*User, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("vex %s: %w", p, err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxUserVEX+1))
	if err != nil {
		return nil, fmt.Errorf("vex %s: %w", p, err)
	}
	if len(b) > maxUserVEX {
		return nil, fmt.Errorf("vex %s: larger than %d bytes", p, maxUserVEX)
	}
	doc, err := ovex.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("vex %s: not an OpenVEX JSON document: %w", p, err)
	}
	for i := range doc.Statements {
		s := &doc.Statements[i]
		if s.Vulnerability.Name == "" && len(s.Vulnerability.Aliases) == 0 {
			return nil, fmt.Errorf("vex %s: statement %d names no vulnerability", p, i+1)
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("vex %s: statement %d (%s): %w", p, i+1, s.Vulnerability.Name, err)
		}
	}
	return &User{Path: p, doc: doc}, nil
}

// Statements counts the file's statements.
func (u *User) Statements() int { return len(u.doc.Statements) }

// Decide returns the user's decision about a CVE of a component, if a
// statement covers it: a statement without products covers every
// component; otherwise a product or subcomponent must name the component
// by purl, CPE, "name" or "name@version". The last matching statement in
// the file wins.
func (u *User) Decide(it Item) (Analysis, bool) {
	if u == nil || u.doc == nil {
		return Analysis{}, false
	}
	var hit *ovex.Statement
	for i := range u.doc.Statements {
		s := &u.doc.Statements[i]
		if !vulnMatches(s.Vulnerability, it.CVE) {
			continue
		}
		if len(s.Products) > 0 && !productsMatch(s.Products, it) {
			continue
		}
		hit = s
	}
	if hit == nil {
		return Analysis{}, false
	}
	by := "user VEX " + u.Path
	a := Analysis{State: string(hit.Status), Justification: string(hit.Justification), By: by, Source: u.Path}
	why := hit.ImpactStatement
	if why == "" {
		why = hit.StatusNotes
	}
	switch hit.Status {
	case ovex.StatusNotAffected:
		a.Detail = "accepted by user VEX " + u.Path
	case ovex.StatusFixed:
		a.Detail = "marked fixed by user VEX " + u.Path
	default:
		a.Detail = "stated " + string(hit.Status) + " by user VEX " + u.Path
	}
	if a.Justification != "" {
		a.Detail += " (" + a.Justification + ")"
	}
	if why != "" {
		a.Detail += ": " + why
	}
	if hit.ActionStatement != "" {
		a.Evidence = append(a.Evidence, "action: "+hit.ActionStatement)
	}
	return a, true
}

func vulnMatches(v ovex.Vulnerability, cve string) bool {
	if string(v.Name) == cve || v.ID == cve {
		return true
	}
	for _, al := range v.Aliases {
		if string(al) == cve {
			return true
		}
	}
	return false
}

func productsMatch(ps []ovex.Product, it Item) bool {
	for _, p := range ps {
		if componentMatches(p.Component, it) {
			return true
		}
		for _, s := range p.Subcomponents {
			if componentMatches(s.Component, it) {
				return true
			}
		}
	}
	return false
}

func componentMatches(c ovex.Component, it Item) bool {
	names := []string{c.ID}
	for _, v := range c.Identifiers {
		names = append(names, v)
	}
	for _, n := range names {
		switch {
		case n == "":
		case n == it.Component, n == it.Component+"@"+it.Version:
			return true
		case it.PURL != "" && strings.HasPrefix(n, "pkg:") && ovex.PurlMatches(n, it.PURL):
			return true
		default:
			for _, c := range it.CPEs {
				if n == c {
					return true
				}
			}
		}
	}
	return false
}

func cveLess(a, b string) bool {
	var ya, na, yb, nb int
	_, ea := fmt.Sscanf(a, "CVE-%d-%d", &ya, &na)
	_, eb := fmt.Sscanf(b, "CVE-%d-%d", &yb, &nb)
	if ea == nil && eb == nil && (ya != yb || na != nb) {
		if ya != yb {
			return ya < yb
		}
		return na < nb
	}
	return a < b
}
