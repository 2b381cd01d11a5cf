// Command fwaudit audits firmware images of consumer IoT devices: it unpacks
// every layer, runs analyzers over the unpacked tree and writes reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"unicode"
	"unicode/utf8"
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
	os.Exit(run(os.Args[1:]))
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

// caught records the signal that interrupted the run, for the exit code.
var caught atomic.Value

// signalContext is cancelled by SIGINT or SIGTERM; the scan then stops, its
// work folder is removed, and the command exits with the conventional
// status (interruptedCode).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			caught.Store(s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}

// interruptedCode is 128 + the signal number: 130 for SIGINT, 143 for
// SIGTERM.
func interruptedCode() int {
	if s, ok := caught.Load().(os.Signal); ok {
		if n, ok := s.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}
	return 128 + int(syscall.SIGINT)
}

// terminalSafe escapes control characters (terminal escape sequences) and
// bidirectional overrides in s before it is printed to a terminal.
func terminalSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
