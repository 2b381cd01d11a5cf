// Command fwaudit audits firmware images of consumer IoT devices: it unpacks
// every layer, runs analyzers over the unpacked tree and writes reports.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	stop := startProfile()
	code := run(os.Args[1:])
	stop()
	os.Exit(code)
}

func run(args []string) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "fwaudit:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown flags, wrong argument counts
	fmt.Fprintln(os.Stderr, "fwaudit:", err)
	return exitUsage
}
