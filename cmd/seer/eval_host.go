package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/seerops/seer/internal/eval/host"
)

const evalHostUsage = `usage: seer eval host [--healthy 30m] [--scrape 15s] [--short] [--json]

Starts Debian's Prometheus, node_exporter and Alertmanager on 127.0.0.1 with
seer (Prometheus remote-writes into it, Alertmanager sends it its webhook),
runs a healthy period, then makes real faults on this machine: a CPU hog
(stress-ng), a tmpfs filling at 3 MB/s, a memory hog, and alerts on a
declared call graph checkout → payment → postgres. Prints a table of checks
(--json: {"checks":[{"name","want","got","pass"}]}); fails when one fails.
Needs: apt-get install prometheus prometheus-node-exporter
prometheus-alertmanager stress-ng; root to mount the tmpfs.
--short is the CI version: 5 healthy minutes at a 5 s scrape.
`

// runEvalHost runs `seer eval host ...`; args start after "host".
func runEvalHost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := host.DefaultConfig()
	fs := flag.NewFlagSet("seer eval host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalHostUsage); fs.PrintDefaults() }
	fs.DurationVar(&cfg.Healthy, "healthy", cfg.Healthy, "the healthy period before the faults")
	fs.DurationVar(&cfg.Scrape, "scrape", cfg.Scrape, "Prometheus's scrape interval")
	fs.DurationVar(&cfg.Fault, "fault", cfg.Fault, "how long each fault lasts")
	short := fs.Bool("short", false, "the CI version: 5 healthy minutes at a 5 s scrape")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "log the stages and every healthy finding to stderr")
	fs.StringVar(&cfg.Dir, "dir", "", "keep the run's files (configs, logs) here instead of a temporary directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: eval host: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *short {
		cfg.Healthy, cfg.Scrape, cfg.Fault = 5*time.Minute, 5*time.Second, 75*time.Second
	}
	if cfg.Healthy <= 0 || cfg.Scrape <= 0 || cfg.Fault <= 0 {
		return fmt.Errorf("%w: eval host: --healthy, --scrape and --fault must be positive", errUsage)
	}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rep, err := host.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("eval host: %w", err)
	}
	return report(stdout, "eval host", *asJSON, rep, func(out io.Writer) {
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CHECK\tWANT\tGOT\tPASS")
		for _, c := range rep.Checks {
			fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", c.Name, c.Want, c.Got, c.Pass)
		}
		w.Flush()
	})
}

// checked is an evaluation's report of checks: eval host's, eval overload's.
type checked interface {
	JSON() ([]byte, error)
	Pass() bool
}

// report prints rep as JSON or as table prints it, and fails when a check
// did.
func report(stdout io.Writer, what string, asJSON bool, rep checked, table func(io.Writer)) error {
	if asJSON {
		b, err := rep.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		table(stdout)
	}
	if !rep.Pass() {
		return errors.New(what + ": a check failed")
	}
	return nil
}
