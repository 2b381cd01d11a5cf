// Package ruledoc says what each fwaudit rule means: its title, a
// description of what it finds and why it matters, the fix, the rule data
// it comes from and the compliance items it bears on. It gathers the rule
// files' own fields (rules/credentials, rules/tokens, rules/services,
// rules/transport), rules/builtin for rules matched in code, and gitleaks'
// descriptions for the gitleaks rules the tokens analyzer runs. SARIF rule
// descriptors (help, helpUri) and docs/rules.md are built from it, so every
// alert of a rule shows the rule's meaning, never one finding's details.
package ruledoc

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	credentials "github.com/fwaudit/fwaudit/analyzers/credentials/detect"
	services "github.com/fwaudit/fwaudit/analyzers/services/match"
	"github.com/fwaudit/fwaudit/analyzers/tokens"
	rulestokens "github.com/fwaudit/fwaudit/analyzers/tokens/match"
	"github.com/fwaudit/fwaudit/rules/builtin"
	rulescompliance "github.com/fwaudit/fwaudit/rules/compliance"
)

// DocsURL is the published rule reference; HelpURI adds the rule's anchor.
const DocsURL = "https://github.com/fwaudit/fwaudit/blob/main/docs/rules.md"

// Doc is what one rule means.
type Doc struct {
	ID    string
	Title string
	// Description: what the rule finds and why it matters.
	Description string
	// Fix: what to do about it.
	Fix string
	// Source is the rule data it comes from ("rules/credentials/credentials.yaml").
	Source string
	// Category is the rule's finding category where the data names it.
	Category string
	// Guidelines are the Code of Practice guidelines its findings bear on,
	// from the rule data (for an undocumented rule, its category's).
	Guidelines []int
	// Known is false for a rule no data documents (the fields are then
	// derived from the id and the category).
	Known bool
}

// Anchor is the id of the rule's entry in docs/rules.md.
func Anchor(id string) string {
	var b strings.Builder
	b.WriteString("rule-")
	for _, c := range strings.ToLower(id) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// HelpURI is the rule's entry in the published rule reference (the
// reference itself for a rule it does not list).
func (d Doc) HelpURI() string {
	if !d.Known {
		return DocsURL
	}
	return DocsURL + "#" + Anchor(d.ID)
}

type catalog struct {
	rules      map[string]Doc
	categories map[string]Doc
	gitleaks   map[string]bool
}

var load = sync.OnceValue(func() *catalog {
	c := &catalog{rules: map[string]Doc{}, categories: map[string]Doc{}, gitleaks: map[string]bool{}}
	add := func(d Doc) {
		d.Known = true
		d.Description = oneLine(d.Description)
		d.Fix = oneLine(d.Fix)
		if have, dup := c.rules[d.ID]; !dup {
			c.rules[d.ID] = d
		} else {
			// detectors reporting under one rule name: the union of their
			// guidelines
			for _, g := range d.Guidelines {
				if !slices.Contains(have.Guidelines, g) {
					have.Guidelines = append(have.Guidelines, g)
				}
			}
			slices.Sort(have.Guidelines)
			c.rules[d.ID] = have
		}
	}
	b := builtin.Default()
	for _, r := range b.Rules {
		add(Doc{ID: r.ID, Title: r.Title, Description: r.Description, Fix: r.Fix, Category: r.Category, Source: "rules/builtin/builtin.yaml (" + r.Source + ")", Guidelines: slices.Clone(r.Guidelines)})
	}
	for _, r := range b.Categories {
		c.categories[r.ID] = Doc{ID: r.ID, Title: r.Title, Description: oneLine(r.Description), Fix: oneLine(r.Fix), Category: r.ID, Guidelines: slices.Clone(r.Guidelines)}
	}
	for _, r := range credentials.Default() {
		id := r.Rule
		if id == "" {
			id = r.ID
		}
		cat := r.Category
		if cat == "" {
			cat = "hardcoded-credential"
		}
		add(Doc{ID: id, Title: r.Title, Description: r.Description, Fix: r.Fix, Category: cat, Source: "rules/credentials/credentials.yaml", Guidelines: slices.Clone(r.Guidelines)})
	}
	for _, r := range rulestokens.Default().Rules {
		add(Doc{ID: r.ID, Title: r.Title, Description: r.Description, Fix: r.Fix, Category: rulestokens.Category, Source: "rules/tokens/tokens.yaml", Guidelines: slices.Clone(r.Guidelines)})
	}
	for _, r := range services.Services().Rules {
		add(Doc{ID: r.ID, Title: r.Title, Description: r.Description, Fix: r.Fix, Category: "insecure-service", Source: "rules/services/services.yaml", Guidelines: slices.Clone(r.Guidelines)})
	}
	for _, r := range services.Transport().Rules {
		add(Doc{ID: r.ID, Title: r.Title, Description: r.Description, Fix: r.Fix, Category: "insecure-config", Source: "rules/transport/transport.yaml", Guidelines: slices.Clone(r.Guidelines)})
	}
	if gl, err := tokens.GitleaksRules(); err == nil {
		api := c.categories[rulestokens.Category]
		for id, desc := range gl {
			if _, ok := c.rules[id]; ok {
				continue
			}
			c.gitleaks[id] = true
			add(Doc{ID: id, Title: oneLine(desc), Description: oneLine(desc) + ". " + api.Description, Fix: api.Fix,
				Category: rulestokens.Category, Source: "gitleaks default configuration (rule " + id + ")", Guidelines: slices.Clone(api.Guidelines)})
		}
	}
	return c
})

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Lookup returns what a rule means. A rule no data documents (a new
// extraction anomaly kind, a rule of a newer gitleaks) gets its
// category's documentation, or a description derived from its id; Known
// is then false.
func Lookup(rule, category string) Doc {
	c := load()
	if d, ok := c.rules[rule]; ok {
		if d.Description == "" {
			d.Description = d.Title + "."
		}
		return d
	}
	d := Doc{ID: rule, Category: category, Title: strings.ReplaceAll(rule, "-", " "), Source: "no rule data"}
	if cd, ok := c.categories[category]; ok {
		d.Title, d.Description, d.Fix, d.Guidelines = cd.Title+" ("+rule+")", cd.Description, cd.Fix, slices.Clone(cd.Guidelines)
	} else {
		d.Description = "Findings of rule " + rule + "."
		d.Fix = "See the finding's message and evidence."
	}
	return d
}

// All returns every documented rule, sorted by id.
func All() []Doc {
	c := load()
	out := make([]Doc, 0, len(c.rules))
	for _, d := range c.rules {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// BearsOn lists the compliance items a rule's findings are evidence
// against ("UK Code of Practice for Consumer IoT Security 1 (No default
// passwords)"), framework by framework: the Code of Practice guidelines of
// its rule data, and the ETSI, PSTI and CRA items the compliance data maps
// it (or its category) to.
func BearsOn(rule, category string) []string {
	set := rulescompliance.Default()
	refs := set.Match(rule, category)
	for _, g := range Lookup(rule, category).Guidelines {
		refs = append(refs, rulescompliance.Ref{Framework: rulescompliance.CoP, ID: fmt.Sprint(g)})
	}
	var out []string
	for _, fw := range set.Frameworks {
		var ids []string
		for _, r := range refs {
			if r.Framework != fw.ID {
				continue
			}
			if it := fw.Item(r.ID); it != nil {
				ids = append(ids, fmt.Sprintf("%s (%s)", it.ID, it.Title))
			}
		}
		if len(ids) > 0 {
			slices.Sort(ids)
			name := fw.Short
			if name == "" {
				name = fw.Name
			}
			out = append(out, name+" "+strings.Join(ids, ", "))
		}
	}
	return out
}

// HelpText is the plain-text help of a rule.
func (d Doc) HelpText() string {
	var b strings.Builder
	b.WriteString(d.Description)
	if d.Fix != "" {
		b.WriteString("\n\nFix: " + d.Fix)
	}
	if on := BearsOn(d.ID, d.Category); len(on) > 0 {
		b.WriteString("\n\nBears on: " + strings.Join(on, "; ") + ".")
	}
	b.WriteString("\n\nRule data: " + d.Source + ".")
	return b.String()
}

// HelpMarkdown is the Markdown help of a rule (GitHub code scanning shows
// it under each alert).
func (d Doc) HelpMarkdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (`%s`)\n\n%s\n", mdEscape(d.Title), d.ID, mdEscape(d.Description))
	if d.Fix != "" {
		fmt.Fprintf(&b, "\n**Fix:** %s\n", mdEscape(d.Fix))
	}
	if on := BearsOn(d.ID, d.Category); len(on) > 0 {
		b.WriteString("\n**Bears on:**\n\n")
		for _, o := range on {
			fmt.Fprintf(&b, "- %s\n", mdEscape(o))
		}
	}
	fmt.Fprintf(&b, "\nRule data: %s. [Rule reference](%s)\n", mdEscape(d.Source), d.HelpURI())
	return b.String()
}

// mdEscape escapes the characters Markdown would read as markup in rule
// text (rule data is ours, but it quotes file contents such as "*" or "_").
func mdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`)
	return r.Replace(s)
}

// Markdown renders the rule reference, docs/rules.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# fwaudit rules\n\n")
	b.WriteString("Generated from the rule data by `go test ./ruledoc -update` (do not edit by hand). Each entry says\n")
	b.WriteString("what the rule finds, what to do about it, the compliance items its findings are evidence against\n")
	b.WriteString("(the Code of Practice guidelines of its rule data, and the ETSI, PSTI and CRA items of\n")
	b.WriteString("rules/compliance) and the rule data it comes from. findings.sarif links every rule here (`helpUri`).\n\n")
	all := All()
	c := load()
	var own, gl []Doc
	for _, d := range all {
		if c.gitleaks[d.ID] {
			gl = append(gl, d)
		} else {
			own = append(own, d)
		}
	}
	for _, d := range own {
		fmt.Fprintf(&b, "<a id=\"%s\"></a>\n### `%s` — %s\n\n%s\n\n", Anchor(d.ID), d.ID, mdEscape(d.Title), mdEscape(d.Description))
		fmt.Fprintf(&b, "**Fix:** %s\n\n", mdEscape(d.Fix))
		if on := BearsOn(d.ID, d.Category); len(on) > 0 {
			fmt.Fprintf(&b, "**Bears on:** %s.\n\n", mdEscape(strings.Join(on, "; ")))
		}
		fmt.Fprintf(&b, "Category `%s`; rule data: %s.\n\n", d.Category, mdEscape(d.Source))
	}
	if len(gl) > 0 {
		api := c.categories[rulestokens.Category]
		b.WriteString("## gitleaks rules\n\n")
		fmt.Fprintf(&b, "The tokens analyzer also runs gitleaks' default rules (category `%s`). %s\n\n**Fix:** %s\n\n",
			rulestokens.Category, mdEscape(api.Description), mdEscape(api.Fix))
		if on := BearsOn("", rulestokens.Category); len(on) > 0 {
			fmt.Fprintf(&b, "**Bears on:** %s.\n\n", mdEscape(strings.Join(on, "; ")))
		}
		b.WriteString("| rule | what it finds |\n|---|---|\n")
		for _, d := range gl {
			fmt.Fprintf(&b, "| <a id=\"%s\"></a>`%s` | %s |\n", Anchor(d.ID), d.ID, mdEscape(d.Title))
		}
	}
	return b.String()
}
