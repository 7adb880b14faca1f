package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/seerops/seer/internal/eval/overload"
)

const evalOverloadUsage = `usage: seer eval overload [--for 10m] [--rate-factor 5] [--limit 1GiB] [--short] [--json]

Starts this binary as ` + "`seer run`" + ` on 127.0.0.1 with a memory limit, measures the
rate it sustains on a mix of OTLP/HTTP metrics and logs, OTLP/gRPC metrics and
Prometheus remote_write (small and big batches, one connection each, back to
back), then offers --rate-factor times that rate from many connections (each
from its own 127.0.0.0/8 address; clients do not back off) for --for. It
samples seer's VmRSS every 100 ms and, after the load, times how long a small
OTLP request takes to be answered 2xx within twice its pre-load median.
Prints the accepted and refused requests and a table of checks (--json: one
object); fails when a check fails. Linux only (/proc).
--short is the CI version: 20 s under a 512 MiB limit.
`

// runEvalOverload runs ` + "`seer eval overload ...`" + `; args start after "overload".
func runEvalOverload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return evalOverload(ctx, args, nil, stdout, stderr)
}

// evalOverload is runEvalOverload with env added to the child's
// environment (tests run the test binary as seer).
func evalOverload(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval overload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalOverloadUsage); fs.PrintDefaults() }
	short := fs.Bool("short", false, "the CI version: 20 s under a 512 MiB limit")
	dur := fs.Duration("for", 0, "how long the overload lasts (default 10m, --short 20s)")
	factor := fs.Float64("rate-factor", 0, "the multiple of the sustainable rate offered (default 5)")
	limit := fs.String("limit", "", "seer's memory.limit_bytes (default 1GiB, --short 512MiB)")
	conns := fs.Int("conns", 0, "connections per class of request, 8 classes (default 32, --short 24)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "log the stages to stderr")
	dir := fs.String("dir", "", "keep seer's configuration and data here instead of a temporary directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: eval overload: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if runtime.GOOS != "linux" {
		return errors.New("eval overload reads /proc: it runs on Linux only")
	}
	cfg := overload.DefaultConfig()
	if *short {
		cfg = overload.ShortConfig()
	}
	if *dur != 0 {
		cfg.Duration = *dur
	}
	if *factor != 0 {
		cfg.Factor = *factor
	}
	if *conns != 0 {
		cfg.Conns = *conns
	}
	if *limit != "" {
		b, err := parseBytes(*limit)
		if err != nil {
			return fmt.Errorf("%w: eval overload: --limit %q: %v", errUsage, *limit, err)
		}
		cfg.Limit = b
	}
	if cfg.Duration <= 0 || cfg.Factor < 1 || cfg.Conns < 1 || cfg.Limit < 64<<20 {
		return fmt.Errorf("%w: eval overload: --for must be positive, --rate-factor at least 1, --conns at least 1, --limit at least 64MiB", errUsage)
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("eval overload: finding this binary: %w", err)
	}
	cfg.Bin, cfg.Env, cfg.Dir = bin, env, *dir
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rep, err := overload.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("eval overload: %w", err)
	}
	return report(stdout, "eval overload", *asJSON, rep, func(out io.Writer) { printOverload(out, rep) })
}

func printOverload(out io.Writer, rep overload.Report) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "overload %s at %.1f× the sustainable rate, memory limit %d MiB (refusing above %d MiB)\n\n",
		rep.Duration, rep.Factor, rep.Limit>>20, rep.Soft>>20)
	fmt.Fprintln(w, "CLASS\tITEMS/REQ\tBODY\tSUSTAINABLE/s\tOFFERED/s\tACCEPTED/s\tACCEPTED\tREFUSED\tSHED\tOTHER\tFAILED\t")
	for _, c := range rep.Classes {
		fmt.Fprintf(w, "%s\t%d\t%.2f MiB\t%.0f\t%.0f\t%.0f\t%d\t%d\t%d\t%d\t%d\t\n", c.Name, c.Items, float64(c.BodyBytes)/(1<<20),
			c.Sustainable, c.Offered, c.Accepted, c.Requests["accepted"], c.Requests["refused"], c.Requests["shed"], c.Requests["other"], c.Requests["failed"])
	}
	fmt.Fprintf(w, "all\t\t\t%.0f\t%.0f\t%.0f\t%d\t%d\t%d\t%d\t%d\t\n", rep.Sustainable, rep.Offered, rep.Accepted,
		rep.Requests["accepted"], rep.Requests["refused"], rep.Requests["shed"], rep.Requests["other"], rep.Requests["failed"])
	w.Flush()
	reasons := make([]string, 0, len(rep.ServerRequests))
	for k := range rep.ServerRequests {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	fmt.Fprint(out, "\nseer's count of ingest requests (whole run):")
	for _, k := range reasons {
		fmt.Fprintf(out, " %s %.0f", k, rep.ServerRequests[k])
	}
	fmt.Fprintf(out, "\nRSS peak sampled %d MiB (%s into the overload, %d samples), VmHWM %d MiB; CPU during the overload: seer %.0f s, generator %.0f s\n",
		rep.RSSPeak>>20, rep.PeakAfter, rep.Samples, rep.HWM>>20, rep.SeerCPU, rep.GenCPU)
	fmt.Fprintf(out, "probe p50: before %s, during %s; recovered in %s\n\n", rep.BaselineP50, ifEmpty(rep.OverloadP50), ifEmpty(rep.RecoveredIn))
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHECK\tWANT\tGOT\tPASS")
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\n", c.Name, c.Want, c.Got, c.Pass)
	}
	w.Flush()
}

// parseBytes reads a size such as 1GiB, 384MiB, 512KiB or 1048576.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("give a size such as 1GiB or 384MiB")
	}
	return int64(n * float64(mult)), nil
}

// ifEmpty is s, or "-" when s is empty.
func ifEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
