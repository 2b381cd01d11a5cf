package tokens

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// genericLines generates text whose lines mix what generic-api-key's
// expression is made of: keyword names in odd cases (and with the Kelvin
// sign and long s that case folding matches), every operator, quotes,
// blanks, values of every length, lines ending in a name or an operator
// so that matches go on over newlines, and plain prose.
func genericLines(rng *rand.Rand, n int) string {
	names := []string{"api_key", "API", "Api", "apI", "token", "TOKEN", "auth", "secret", "ſecret", "\u212aey", "client_secret",
		"access", "credential", "creds", "passwd", "password", "x-api-key", "db.key", "ke", "tok", "the key", "api-token"}
	ops := []string{"=", ":", "=>", "||", "?=", ",", ":=", ":::=", ">", " = ", "\t:\t", ""}
	gaps := []string{"", " ", "\t", "'", "\"", "`", "  ", "\"'", "= "}
	value := func() string {
		const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=._-"
		n := []int{4, 9, 10, 11, 12, 16, 24, 40, 64, 151}[rng.IntN(10)]
		var b strings.Builder
		for range n {
			b.WriteByte(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	prose := []string{"the key to the door", "see the API reference", "access granted", "tokens, words, commas", "no operator here at all",
		"a:b", "x", "", "secret sauce; and more", "set the auth header"}
	var b strings.Builder
	for range n {
		switch rng.IntN(6) {
		case 0:
			b.WriteString(prose[rng.IntN(len(prose))])
		case 1: // a name at the end of the line: the operator comes next line
			// (a line is a candidate only when it holds a token-like run)
			b.WriteString(prose[rng.IntN(len(prose))] + " " + value() + " " + names[rng.IntN(len(names))] + gaps[rng.IntN(len(gaps))])
		case 2: // an operator at the end: the value comes next line
			b.WriteString(names[rng.IntN(len(names))] + gaps[rng.IntN(len(gaps))] + ops[rng.IntN(len(ops))] + gaps[rng.IntN(len(gaps))])
		case 3: // a whole assignment
			b.WriteString(names[rng.IntN(len(names))] + gaps[rng.IntN(len(gaps))] + ops[rng.IntN(len(ops))] + gaps[rng.IntN(len(gaps))] + value() + gaps[rng.IntN(len(gaps))])
		case 4: // only what may continue a match: quotes, blanks, operators, a value
			b.WriteString(gaps[rng.IntN(len(gaps))] + ops[rng.IntN(len(ops))] + gaps[rng.IntN(len(gaps))] + value())
		case 5:
			b.WriteString(value() + " " + names[rng.IntN(len(names))] + " " + value())
		}
		b.WriteByte("\n\n\r"[rng.IntN(3)])
	}
	return b.String()
}

// scanBoth runs the engine on data with and without genericJoin.
func scanBoth(t *testing.T, e *engine, data []byte, text bool) (with, without []hit) {
	t.Helper()
	var scratch []byte
	defer func() { genericReduce = true }()
	genericReduce = true
	with = e.scan(context.Background(), data, &scratch, text)
	genericReduce = false
	without = e.scan(context.Background(), data, &scratch, text)
	return with, without
}

// genericJoin changes nothing gitleaks reports, on generated text where
// generic-api-key matches run over newlines and lines without operators
// sit between them, read as text and as a binary's strings; and it really
// leaves lines out.
func TestGenericJoinChangesNothing(t *testing.T) {
	e, err := loadEngine()
	if err != nil {
		t.Fatal(err)
	}
	if e.generic < 0 {
		t.Fatal("genericJoin is not used: gitleaks' generic-api-key expression is not the one generic.go was derived for; derive genericTail again")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	generic, kept, all := 0, 0, 0
	for i := range 400 {
		data := []byte(genericLines(rng, 5+rng.IntN(60)))
		for _, text := range []bool{true, false} {
			with, without := scanBoth(t, e, data, text)
			if !reflect.DeepEqual(with, without) {
				t.Fatalf("file %d (text %v): findings differ\n--- with genericJoin\n%v\n--- without\n%v\n--- data\n%s", i, text, with, without, data)
			}
			for _, h := range with {
				if h.rule == "generic-api-key" {
					generic++
				}
			}
		}
		// how much of the join is left
		var cands []segment
		var idx []int
		for n, l := range strings.Split(string(data), "\n") {
			cands = append(cands, segment{line: n + 1, text: l})
			idx = append(idx, n)
		}
		_, sub := genericJoin(nil, nil, cands, idx)
		kept += len(sub)
		all += len(cands)
	}
	if generic < 200 {
		t.Errorf("only %d generic-api-key findings: the test does not test the rule", generic)
	}
	if kept*100 > all*95 {
		t.Errorf("genericJoin kept %d of %d lines: it leaves nothing out", kept, all)
	}
	t.Logf("%d generic-api-key findings; genericJoin kept %d of %d lines", generic, kept, all)
}

// genericJoin keeps a line without an operator only where a match can run
// on into it or out of it, and drops whole groups otherwise.
func TestGenericJoinGroups(t *testing.T) {
	seg := func(lines ...string) ([]segment, []int) {
		var c []segment
		var idx []int
		for i, l := range lines {
			c = append(c, segment{line: i + 1, text: l})
			idx = append(idx, i)
		}
		return c, idx
	}
	for _, c := range []struct {
		lines []string
		want  string
	}{
		{[]string{"no name here", "api_key = abcdefghijk123", "more prose"}, "api_key = abcdefghijk123"},
		{[]string{"the key to it", "= abcdefghijk123", "more prose"}, "the key to it\n= abcdefghijk123"},
		{[]string{"prose", "the api_key", "= abcdefghijk123", "tail"}, "the api_key\n= abcdefghijk123"},
		{[]string{"token =", "abcdefghijk123", "x"}, "token =\nabcdefghijk123"},
		{[]string{"token:'", "'", "abcdefghijk123"}, "token:'\n'\nabcdefghijk123"},
		{[]string{"a secret", "b", "c"}, ""},
		{[]string{"\u212aey", ": v4lue1234567", "x"}, "\u212aey\n: v4lue1234567"},
	} {
		cands, idx := seg(c.lines...)
		buf, sub := genericJoin(nil, nil, cands, idx)
		if string(buf) != c.want || len(sub) != strings.Count(c.want, "\n")+min(1, len(c.want)) {
			t.Errorf("%q: joined %q (%d lines), want %q", c.lines, buf, len(sub), c.want)
		}
	}
}

// Any text: the findings are the same with genericJoin and without.
func FuzzGenericJoin(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 8 {
		f.Add([]byte(genericLines(rng, 12)))
	}
	f.Add([]byte("api_key\n\n= abcdefghijklmnop\n"))
	e, err := loadEngine()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, text := range []bool{true, false} {
			with, without := scanBoth(t, e, data, text)
			if !reflect.DeepEqual(with, without) {
				t.Fatalf("text %v: findings differ\n%v\n%v", text, with, without)
			}
		}
	})
}
