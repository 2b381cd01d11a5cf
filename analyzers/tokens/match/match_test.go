package match

import (
	"strings"
	"testing"
)

func TestAllowList(t *testing.T) {
	a := Default().Allow
	for _, s := range []string{
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"your-api-key", "xxxxxxxxxxxxxxxx", "${API_TOKEN}", "<token>", "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
	} {
		if !a.Allowed(s) || a.Why(s) == "" {
			t.Errorf("%q should be allowed", s)
		}
	}
	for _, s := range []string{"AKIAQ3EGTZ7KPLM2WN4X", "k3j9x2m7q8w1e5r4t6y0u2i9o8p7a3s1"} {
		if a.Allowed(s) || a.Why(s) != "" {
			t.Errorf("%q should not be allowed (%s)", s, a.Why(s))
		}
	}
}

func TestEntropy(t *testing.T) {
	if e := Entropy("aaaa"); e != 0 {
		t.Errorf("Entropy(aaaa) = %v", e)
	}
	if e := Entropy("abcd"); e != 2 {
		t.Errorf("Entropy(abcd) = %v", e)
	}
	if longestRun("ab000000c") != 6 {
		t.Errorf("longestRun")
	}
}

func TestParseErrors(t *testing.T) {
	for _, y := range []string{
		"rules: [{id: a, severity: high, keywords: [x], pattern: '(x'}]",
		"rules: [{id: a, severity: high, keywords: [x], pattern: 'x'}]",
		"rules: [{id: a, severity: bad, keywords: [x], pattern: '(?P<secret>x)'}]",
		"rules: [{id: a, severity: high, pattern: '(?P<secret>x)'}]",
		"rules: [{id: a, severity: high, keywords: [x], pattern: '(?P<secret>x)'}, {id: a, severity: high, keywords: [x], pattern: '(?P<secret>x)'}]",
		"allow: {regexes: ['(']}",
	} {
		if _, err := Parse([]byte(y)); err == nil {
			t.Errorf("Parse(%s): want error", y)
		}
	}
	// cut at MaxSegment
	r := Default().Rules[0]
	long := strings.Repeat(" ", MaxSegment) + r.Examples.True[0].Text
	if ms := r.Scan(long); len(ms) != 0 {
		t.Errorf("text past MaxSegment scanned")
	}
}
