package accounts

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
)

// fakeVerifier matches a set of passwords and counts calls.
type fakeVerifier struct {
	match map[string]bool
	calls atomic.Int64
}

func (*fakeVerifier) Kind() hashes.Kind { return hashes.MD5Crypt }
func (v *fakeVerifier) Verify(pw string) bool {
	v.calls.Add(1)
	return v.match[pw]
}

func words(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("w%d", i))
	}
	return out
}

// With several matching candidates (as DES's 8-character truncation allows)
// the lowest-ranked one is reported, whatever the scheduling.
func TestCrackReportsLowestMatch(t *testing.T) {
	for workers := 1; workers <= 8; workers *= 2 {
		for run := 0; run < 20; run++ {
			v := &fakeVerifier{match: map[string]bool{"w37": true, "w38": true, "w5": true, "w900": true}}
			j := newCrackJob("h", v, words(20000), false)
			if err := crack(context.Background(), []*crackJob{j}, workers); err != nil {
				t.Fatal(err)
			}
			if pw, ok := j.hit(); !ok || pw != "w5" {
				t.Fatalf("workers %d: hit %q %v, want w5", workers, pw, ok)
			}
			// stops soon after the first hit: far fewer than the 20000
			// candidates (the exact count depends on scheduling, so the
			// bound is loose on purpose)
			if n := v.calls.Load(); n >= 10000 {
				t.Fatalf("workers %d: %d verifications after a hit at index 5", workers, n)
			}
		}
	}
}

func TestCrackTriesEverythingWithoutHit(t *testing.T) {
	v1 := &fakeVerifier{}
	v2 := &fakeVerifier{match: map[string]bool{"w99": true}}
	j1 := newCrackJob("a", v1, words(333), false)
	j2 := newCrackJob("b", v2, words(100), true)
	if err := crack(context.Background(), []*crackJob{j1, j2}, 3); err != nil {
		t.Fatal(err)
	}
	if _, ok := j1.hit(); ok || v1.calls.Load() != 333 {
		t.Errorf("job 1: hit %v after %d calls, want none after 333", ok, v1.calls.Load())
	}
	if pw, ok := j2.hit(); !ok || pw != "w99" || v2.calls.Load() != 100 {
		t.Errorf("job 2: %q %v after %d calls", pw, ok, v2.calls.Load())
	}
}

func TestCrackCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v := &fakeVerifier{}
	j := newCrackJob("a", v, words(10000), false)
	if err := crack(ctx, []*crackJob{j}, 2); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
	if n := v.calls.Load(); n > 100 {
		t.Errorf("%d verifications after cancellation", n)
	}
}

// A real hash whose password is the last candidate.
func TestCrackRealLast(t *testing.T) {
	list := words(200)
	h := md5Hash(t, list[199])
	v, err := hashes.NewVerifier(h)
	if err != nil {
		t.Fatal(err)
	}
	j := newCrackJob(h, v, list, hashes.SlowHash(h))
	if err := crack(context.Background(), []*crackJob{j}, 2); err != nil {
		t.Fatal(err)
	}
	if pw, ok := j.hit(); !ok || pw != "w199" {
		t.Fatalf("hit %q %v", pw, ok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(uint8(kindShadow), []byte("root:$1$aa$hnW8HcW7oE/zKWcRaWfpM.:1:0:99999:7:::\nguest::1:0:::::\n+::::::::\n"))
	f.Add(uint8(kindPasswd), []byte("root:x:0:0:root:/root:/bin/sh\r\nguest::1:1::/:/bin/sh\n# c\n"))
	f.Add(uint8(kindMaster), []byte("root:*:0:0::0:0:Charlie:/root:/bin/csh\n"))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		kind := fileKind(k%3 + 1)
		es := parse(kind, data)
		lines := strings.Count(string(data), "\n") + 1
		prev := 0
		for _, e := range es {
			if !validUser(e.User) {
				t.Fatalf("invalid user %q accepted", e.User)
			}
			if e.Line <= prev || e.Line > lines {
				t.Fatalf("line %d after %d (of %d)", e.Line, prev, lines)
			}
			prev = e.Line
			if strings.ContainsAny(e.Password, ":\n") || strings.Contains(e.Text, "\n") {
				t.Fatalf("field crosses a separator: %q", e.Text)
			}
			if kind != kindShadow && !e.HasShell {
				t.Fatalf("passwd entry without shell")
			}
			classify(e.Password)
			loginShell(e.Shell)
		}
	})
}
