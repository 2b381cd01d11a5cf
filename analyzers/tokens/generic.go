package tokens

import (
	"regexp"
	"strings"
)

// gitleaks' generic-api-key rule is most of the analyzer's time: its
// expression (case-insensitive, a lazy prefix, no literal to search for)
// runs in Go's NFA at about 1 MB/s, over every line that holds one of its
// ten keywords ("key", "api", "token", ...: much of any text). Most of
// those lines cannot hold a match. genericJoin leaves them out, and only
// where that provably changes nothing.
//
// The expression, as gitleaks v8.30.1 ships it (checked when the engine is
// built: another expression gets the plain join):
//
//	P (?i)[\w.-]{0,50}?  K (?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)
//	T (?:[ \t\w.-]{0,20})  Q [\s'"]{0,3}  O (?:=|>|:{1,3}=|\|\||:|=>|\?=|,)  W [\x60'"\s=]{0,5}
//	S ([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})  E (?:[\x60'"\s;]|\\[nr]|$)
//
// Candidates are joined with "\n". Only Q and W can hold a newline inside a
// match (E may end a match with one, which the same match ends with $ when
// the text ends there instead). So a match reaches over the newline after
// a text only if the text ends like K T and at most two of Q's characters,
// or like O and at most four of W's: genericTail. Where it does not, no
// match spans that newline, whatever follows. The candidates thus fall in
// groups that no match crosses, found left to right. A group in which
// nothing matches K T Q and the first character of O (genericCore, a
// part of every match) holds no match and is left out; the groups kept
// are joined as before. Every match of the whole join is a match of the
// reduced one and the other way round, in the same order, on the same
// lines (locate searches from the match's line on), so gitleaks reports
// the same findings. TestGenericJoinChangesNothing checks it against the
// plain join on generated lines, FuzzGenericJoin on any.
const genericAPIKeyRegex = `(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)`

// genericTail matches a text after which a generic-api-key match can go on
// past a newline (a superset: "api" in any case).
var genericTail = regexp.MustCompile(`(?i)(?:(?:access|auth|api|credential|creds|key|passw(?:or)?d|secret|token)[ \t\w.-]{0,20}[\s'"]{0,2}|[=>:|,][\x60'"\s=]{0,4})$`)

// genericTailWindow bounds the text genericTail looks at: K, T and two of
// Q take at most 10+20+2 characters, of up to three bytes each under case
// folding (the Kelvin sign is a "k").
const genericTailWindow = 128

// genericCore matches the part of every generic-api-key match from the
// name to the operator's first character, K T Q and O (a superset again):
// a group it does not match in holds no match.
var genericCore = regexp.MustCompile(`(?i)(?:access|auth|api|credential|creds|key|passw(?:or)?d|secret|token)[ \t\w.-]{0,20}[\s'"]{0,3}(?:[=>:|,]|\?=)`)

// genericOps are the characters every generic-api-key match holds one of
// (the cheap test before genericCore).
const genericOps = "=>:|,"

// genericReduce turns the reduction off (tests compare the two).
var genericReduce = true

// genericJoin appends to sub the candidates idx of cands that can hold a
// generic-api-key match, in groups as above; buf is scratch space for the
// groups' joined text, returned for reuse.
func genericJoin(buf []byte, sub []segment, cands []segment, idx []int) ([]byte, []segment) {
	// the current group: where to cut it off (its separator included),
	// where its text starts, its first candidate in sub
	cut, textAt, groupSub := len(buf), len(buf), len(sub)
	hasOp := false
	for i, ci := range idx {
		if len(sub) == groupSub {
			cut = len(buf)
			if len(sub) > 0 {
				buf = append(buf, '\n')
			}
			textAt = len(buf)
		} else {
			buf = append(buf, '\n')
		}
		text := cands[ci].text
		buf = append(buf, text...)
		sub = append(sub, cands[ci])
		hasOp = hasOp || strings.ContainsAny(text, genericOps)
		if i < len(idx)-1 {
			g := buf[textAt:]
			if genericTail.Match(g[max(0, len(g)-genericTailWindow):]) {
				continue // a match may go on into the next candidate
			}
		}
		if !hasOp || !genericCore.Match(buf[textAt:]) {
			buf, sub = buf[:cut], sub[:groupSub]
		}
		groupSub, hasOp = len(sub), false
	}
	return buf, sub
}
