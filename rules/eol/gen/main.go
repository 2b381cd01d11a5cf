// Command gen writes rules/eol/eol.yaml from endoflife.date product files.
//
//	go generate ./rules/eol
//	go run ./rules/eol/gen -src ../shared/eol -out rules/eol/eol.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fwaudit/fwaudit/rules/eol"
)

func main() {
	src := flag.String("src", "../shared/eol", "folder of endoflife.date product files (<product>.md) and README.md")
	out := flag.String("out", "rules/eol/eol.yaml", "file to write")
	flag.Parse()
	data, err := eol.Derive(*src)
	if err == nil {
		// Check the result parses before writing it.
		_, err = eol.Parse(data, []byte("stale_years: 5\n"))
	}
	if err == nil {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
