package match

import (
	"slices"
	"testing"
)

func TestTransportRules(t *testing.T) {
	s := Transport()
	ids := map[string]bool{}
	for _, r := range s.Rules {
		ids[r.ID] = true
		if !slices.Contains(r.Guidelines, 5) {
			t.Errorf("%s: transport rules bear on guideline 5, got %v", r.ID, r.Guidelines)
		}
		if r.Kind == KindCommand {
			t.Errorf("%s: transport has no command rules", r.ID)
		}
	}
	for _, id := range []string{"curl-insecure", "wget-no-check-certificate", "tls-verify-disabled", "http-firmware-url", "http-update-url", "wifi-open", "wifi-wep", "hostapd-open", "hostapd-wep"} {
		if !ids[id] {
			t.Errorf("rule %s missing", id)
		}
	}
}

// One line gives one finding: the firmware URL rule wins over the generic
// update rule, and a line with both -k and a plain URL is the curl rule's.
func TestTransportFirstRuleWins(t *testing.T) {
	s := Transport()
	hs := s.MatchFile("/etc/fw.sh", []byte("wget http://fw.vendor.com/update/fw.bin\ncurl -k http://cloud.vendor.com/x\n"))
	if len(hs) != 2 || hs[0].Rule.ID != "http-firmware-url" || hs[0].Line != 1 || hs[1].Rule.ID != "curl-insecure" || hs[1].Line != 2 {
		for _, h := range hs {
			t.Logf("%s:%d", h.Rule.ID, h.Line)
		}
		t.Fatalf("got %d hits", len(hs))
	}
}
