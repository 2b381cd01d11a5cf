// Command gen writes the crafted inputs of internal/hostile to a folder, at
// full scale unless -scale says otherwise:
//
//	go run ./internal/hostile/gen -out /tmp/hostile
//
// scripts/hostile.sh uses it to measure fwaudit on every case.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fwaudit/fwaudit/internal/hostile"
)

func main() {
	out := flag.String("out", "", "folder to write the cases to")
	scale := flag.Float64("scale", 1, "size of each case relative to the issue's table")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -out DIR [-scale 1]")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range hostile.Cases() {
		p := filepath.Join(*out, c.Name+".bin")
		if err := os.WriteFile(p, c.Build(*scale), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s\t%s\n", p, c.What)
	}
}
