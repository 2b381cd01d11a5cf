package glob

import "testing"

func TestCompile(t *testing.T) {
	for _, c := range []struct {
		glob, path string
		want       bool
	}{
		{"busybox", "bin/busybox", true},
		{"busybox", "busybox", true},
		{"busybox", "bin/busybox.bak", false},
		{"**/libcrypto.so*", "lib/libcrypto.so.0.9.7", true},
		{"**/libcrypto.so*", "libcrypto.so", true},
		{"etc/*.conf", "etc/a.conf", true},
		{"etc/*.conf", "etc/x/a.conf", false},
		{"etc/**", "etc/x/a.conf", true},
		{"/etc/pass?d", "etc/passwd", true},
		{"a.b", "axb", false},
	} {
		re, err := Compile(c.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(c.path); got != c.want {
			t.Errorf("%q on %q = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
	if _, err := Compile(""); err == nil {
		t.Error("empty glob accepted")
	}
}
