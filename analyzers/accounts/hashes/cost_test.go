package hashes

import "testing"

func TestTooCostly(t *testing.T) {
	for hash, want := range map[string]bool{
		"$2b$10$abcdefghijklmnopqrstuu5Ttt1Ek3QwJ0bs6vU4yFhB9fGq5uJ0u": false,
		"$2b$31$abcdefghijklmnopqrstuu5Ttt1Ek3QwJ0bs6vU4yFhB9fGq5uJ0u": true,
		"$6$rounds=5000$salt$abc":                                      false,
		"$6$rounds=999999999$salt$abc":                                 true,
		"$5$rounds=x$salt$abc":                                         true,
		"$1$salt$abc":                                                  false,
		"$y$j9T$salt$hash":                                             false,
		"$y$jFT$salt$hash":                                             true,
		"ab01234567890":                                                false,
	} {
		if got := TooCostly(hash); got != want {
			t.Errorf("TooCostly(%q) = %v, want %v", hash, got, want)
		}
	}
}
