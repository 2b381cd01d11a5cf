package hashes_test

import (
	"fmt"

	"github.com/fwaudit/fwaudit/analyzers/accounts/hashes"
	"github.com/fwaudit/fwaudit/rules/passwords"
)

// Check a shadow-file hash against the built-in default-password dictionary.
func Example() {
	hash := "$1$TPLINK01$VqchsPPG1aPL8/QGHhzR31" // root's hash in a TP-Link image
	v, err := hashes.NewVerifier(hash)
	if err != nil {
		fmt.Println(err)
		return
	}
	candidates := passwords.Defaults()
	if hashes.SlowHash(hash) {
		candidates = candidates[:100] // bcrypt/yescrypt: only the likeliest
	}
	for _, pw := range candidates {
		if v.Verify(pw) {
			fmt.Printf("%s hash matches default password %q\n", v.Kind(), pw)
			return
		}
	}
	fmt.Println("no default password")
	// Output: md5crypt hash matches default password "5up"
}
