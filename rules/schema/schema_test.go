package schema

import (
	"strings"
	"testing"
)

type testRule struct {
	Header   `yaml:",inline"`
	Pattern  string                   `yaml:"pattern"`
	Examples Examples[string, string] `yaml:"examples"`
}

const good = `
- id: a
  title: A
  description: finds a
  severity: high
  guidelines: [1, 4]
  fix: remove a
  source: test
  pattern: x
  examples: {true: [x], false: [y]}
- id: b
  title: B
  description: finds b
  severity: info
  guidelines: []
  fix: nothing
  pattern: y
`

func TestLoadGood(t *testing.T) {
	var rs []*testRule
	if err := Decode("test", []byte(good), &rs); err != nil {
		t.Fatal(err)
	}
	compiled := 0
	if err := Check("test", rs, func(*testRule) error { compiled++; return nil }); err != nil {
		t.Fatal(err)
	}
	if compiled != 2 || rs[0].Guidelines[1] != 4 || rs[0].Examples.True[0] != "x" || rs[1].Guidelines == nil || len(rs[1].Guidelines) != 0 {
		t.Fatalf("decoded %+v %+v (compiled %d)", rs[0], rs[1], compiled)
	}
}

func TestLoadBad(t *testing.T) {
	base := "- id: a\n  title: A\n  description: d\n  fix: f\n"
	for name, c := range map[string]struct{ yaml, want string }{
		"unknown key":     {base + "  severity: high\n  guidelines: [1]\n  advice: x\n", "advice"},
		"no severity":     {base + "  guidelines: [1]\n", "missing severity"},
		"bad severity":    {base + "  severity: severe\n  guidelines: [1]\n", `severity "severe"`},
		"no guidelines":   {base + "  severity: low\n", "missing guidelines"},
		"guideline 14":    {base + "  severity: low\n  guidelines: [14]\n", "guideline 14"},
		"guideline 0":     {base + "  severity: low\n  guidelines: [0]\n", "guideline 0"},
		"guideline twice": {base + "  severity: low\n  guidelines: [3, 3]\n", "twice"},
		"no title":        {"- id: a\n  description: d\n  fix: f\n  severity: low\n  guidelines: [1]\n", "missing title"},
		"duplicate id":    {base + "  severity: low\n  guidelines: [1]\n" + base + "  severity: low\n  guidelines: [1]\n", `"a" twice`},
	} {
		var rs []*testRule
		err := Decode("test", []byte(c.yaml), &rs)
		if err == nil {
			err = Check("test", rs, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", name, err, c.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	var g Registry
	if err := g.Add("services", "telnetd", "ftpd"); err != nil {
		t.Fatal(err)
	}
	err := g.Add("transport", "tls-off", "telnetd")
	if err == nil || !strings.Contains(err.Error(), "transport") || !strings.Contains(err.Error(), "services") {
		t.Fatalf("duplicate across sets: %v", err)
	}
	if g.Set("ftpd") != "services" || g.Set("tls-off") != "transport" || g.Len() != 3 {
		t.Fatalf("registry: %d ids, ftpd in %q", g.Len(), g.Set("ftpd"))
	}
}

func TestLoadOverride(t *testing.T) {
	over := `
- id: b
  title: B2
  description: finds b better
  severity: low
  guidelines: [2]
  fix: f
- id: c
  title: C
  description: finds c
  severity: medium
  guidelines: [3]
  fix: f
`
	rs, err := Load[*testRule]("test", nil, []byte(good), []byte(over))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.ID+":"+r.Title)
	}
	if strings.Join(got, ",") != "a:A,b:B2,c:C" {
		t.Fatalf("merged %v, want a:A,b:B2,c:C (b replaced in place, c appended)", got)
	}
	if _, err := Load[*testRule]("test", nil, []byte(good), []byte("- id: d\n  title: D\n")); err == nil || !strings.Contains(err.Error(), `rule "d": missing`) {
		t.Fatalf("an invalid override rule: %v", err)
	}
}
