package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/fwaudit/fwaudit/analyzers"
)

func newWorkerCmd() *cobra.Command {
	var store string
	var concurrency int
	var wf workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "A long-running fleet worker (for other machines); stops on SIGINT/SIGTERM",
		Long: `worker works the fleet's queue until it is stopped (SIGINT or SIGTERM
finish the images in hand first). Run any number of them, on any number of
machines, against one PostgreSQL store; images are read by the path
"fleet add" recorded, so every worker must see them at that path (a shared
folder), and --out should be a folder they all write to. A worker killed
mid-image leaves a job River hands to another worker after the rescue
delay (docs/fleet.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if concurrency < 1 {
				return usageErr("--concurrency must be at least 1")
			}
			ctx, s, done, err := storeSession(store, false)
			if err != nil {
				return err
			}
			defer done()
			w := wf.worker(concurrency)
			fmt.Fprintf(os.Stderr, "fwaudit: worker %d on %s\n", os.Getpid(), redactStore(store))
			err = s.Work(ctx, w, false)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	storeFlag(cmd, &store)
	cmd.Flags().IntVar(&concurrency, "concurrency", 1, "images worked at once by this worker")
	wf.add(cmd)
	return cmd
}

// redactStore hides a password in a store URL.
func redactStore(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}

// useFingerprintKey sets the key of single scans: the contents of file if
// given, else $FWAUDIT_FINGERPRINT_KEY, else the public key (see
// docs/fleet.md).
func useFingerprintKey(file string) error {
	var key []byte
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--fingerprint-key-file: %v", err)
		}
		key = []byte(trimNewline(string(b)))
	} else if v := os.Getenv("FWAUDIT_FINGERPRINT_KEY"); v != "" {
		key = []byte(v)
	}
	if key == nil {
		return analyzers.SetFingerprintKey(nil)
	}
	return analyzers.SetFingerprintKey(key)
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
