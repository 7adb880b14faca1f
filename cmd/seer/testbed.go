package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/seerops/seer/internal/chaos"
	"github.com/seerops/seer/internal/testbed"
	"github.com/seerops/seer/internal/testbed/shop"
)

const testbedUsage = `usage: seer testbed up|run|down|ctl|campaign [flags]

  up       [--dir D] [--day 10m] [--peak 4]    start the shop, seer and the load; stop with Ctrl-C or 'down'
  run      --for D [same flags as up]           the same, for D, then down
  down     [--dir D]                            stop a testbed started with up (and reap a crashed one's processes)
  ctl      [--dir D] ACTION SERVICE             restart, rollback, free-disk or flush a service (what runbooks call)
  campaign [--faults ALL|K1,K2] [--repeat K] [--json]   inject faults, judge seer, print the table

The testbed's directory is --dir, else $SEER_TESTBED, else ./testbed.
`

func testbedDir(fs *flag.FlagSet) *string {
	def := os.Getenv("SEER_TESTBED")
	if def == "" {
		def = "testbed"
	}
	return fs.String("dir", def, "the testbed's directory")
}

func absDir(d string) (string, error) {
	a, err := filepath.Abs(d)
	if err != nil {
		return "", fmt.Errorf("--dir %q: %w", d, err)
	}
	return a, nil
}

func runTestbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, testbedUsage)
		return fmt.Errorf("%w: testbed: give up, run, down, ctl or campaign", errUsage)
	}
	switch args[0] {
	case "up", "run":
		return testbedUp(ctx, args[0], args[1:], stdout, stderr)
	case "down":
		return testbedDown(args[1:], stdout, stderr)
	case "ctl":
		return testbedCtl(ctx, args[1:], stdout, stderr)
	case "campaign":
		return testbedCampaign(ctx, args[1:], stdout, stderr)
	case "serve":
		return testbedServe(ctx, args[1:], stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, testbedUsage)
		return nil
	}
	fmt.Fprint(stderr, testbedUsage)
	return fmt.Errorf("%w: testbed: unknown command %q", errUsage, args[0])
}

// testbedFlags are up's, run's and campaign's.
func testbedFlags(fs *flag.FlagSet, cfg *testbed.Config) (dir *string) {
	dir = testbedDir(fs)
	fs.DurationVar(&cfg.Day, "day", cfg.Day, "length of a compressed day of traffic")
	fs.Float64Var(&cfg.Peak, "peak", cfg.Peak, "user sessions a second at the day's peak")
	fs.DurationVar(&cfg.Scrape, "scrape", cfg.Scrape, "how often seer scrapes the services' /metrics")
	fs.DurationVar(&cfg.Probe, "probe", cfg.Probe, "how often seer probes the services' /healthz")
	fs.BoolVar(&cfg.NoSeer, "no-seer", false, "start the shop without seer")
	return dir
}

func seerBinary() (string, error) {
	bin, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this binary to start the services: %w", err)
	}
	return bin, nil
}

func testbedUp(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	bin, err := seerBinary()
	if err != nil {
		return err
	}
	cfg := testbed.DefaultConfig("", bin)
	fs := newFlagSet("testbed "+cmd, stderr)
	dir := testbedFlags(fs, &cfg)
	var d time.Duration
	if cmd == "run" {
		fs.DurationVar(&d, "for", 0, "how long the testbed runs")
	}
	verbose := fs.Bool("v", false, "log progress to stderr")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if cmd == "run" && d <= 0 {
		return fmt.Errorf("%w: testbed run: give --for, e.g. --for 10m", errUsage)
	}
	if cfg.Dir, err = absDir(*dir); err != nil {
		return err
	}
	if *verbose {
		cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	tb, err := testbed.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "testbed up in %s\n  seer     %s\n  control  %s\n  shop     %s\n", cfg.Dir, tb.SeerURL(), tb.ControlURL(), tb.FrontURL())
	if cmd == "run" {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	} else {
		<-ctx.Done()
	}
	err = tb.Close()
	req, fail := tb.Load().Stats()
	fmt.Fprintf(stdout, "testbed down; user requests %v, failed %v\n", req, fail)
	return err
}

func testbedDown(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("testbed down", stderr)
	dir := testbedDir(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := absDir(*dir)
	if err != nil {
		return err
	}
	st, err := testbed.ReadState(d)
	if err == nil && st.PID > 0 && syscall.Kill(st.PID, syscall.SIGTERM) == nil {
		deadline := time.Now().Add(60 * time.Second)
		for syscall.Kill(st.PID, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if syscall.Kill(st.PID, 0) == nil {
			return fmt.Errorf("the testbed (pid %d) did not stop within 60 s", st.PID)
		}
	}
	n := testbed.Reap(d)
	os.Remove(filepath.Join(d, "testbed.json"))
	fmt.Fprintf(stdout, "testbed in %s is down (%d leftover processes killed)\n", d, n)
	return nil
}

func testbedCtl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("testbed ctl", stderr)
	dir := testbedDir(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: testbed ctl: give ACTION SERVICE (restart, rollback, free-disk or flush)", errUsage)
	}
	c, err := testbedClient(*dir)
	if err != nil {
		return err
	}
	var out string
	if err := c.Do(ctx, "POST", "/ctl/"+url.PathEscape(pos[0])+"/"+url.PathEscape(pos[1]), nil, &out); err != nil {
		return err
	}
	fmt.Fprint(stdout, out)
	return nil
}

func testbedClient(dir string) (*testbed.Client, error) {
	d, err := absDir(dir)
	if err != nil {
		return nil, err
	}
	return testbed.NewClient(d)
}

// testbedServe is one service's process (hidden: the testbed starts it).
func testbedServe(ctx context.Context, args []string, stderr io.Writer) error {
	var opt shop.Options
	fs := newFlagSet("testbed serve", stderr)
	fs.StringVar(&opt.Name, "name", "", "the service")
	fs.StringVar(&opt.Listen, "listen", "127.0.0.1:0", "address to serve on")
	fs.StringVar(&opt.Dir, "dir", "", "the service's directory")
	fs.StringVar(&opt.OTLP, "otlp", "", "OTLP/HTTP host:port")
	fs.StringVar(&opt.Build, "build", shop.BuildGood, "good or faulty")
	fs.Int64Var(&opt.MemQuota, "mem-quota", 0, "memory limit in bytes")
	fs.Int64Var(&opt.DiskQuota, "disk-quota", 0, "data directory quota in bytes")
	peers := fs.String("peers", "", "NAME=ADDR,... of the services it calls")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	opt.Peers = map[string]string{}
	for _, p := range strings.Split(*peers, ",") {
		if name, addr, ok := strings.Cut(p, "="); ok {
			opt.Peers[name] = addr
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	testbed.WatchParent(cancel)
	return shop.Serve(ctx, opt)
}

const chaosUsage = `usage: seer chaos inject KIND --target S --for D [--param K=V ...] | list [--json] | stop [ID]

Faults are made in the running testbed (--dir, $SEER_TESTBED or ./testbed):
  latency  added delay and jitter on the target's requests (proxy; ms, jitter_ms)
  loss     lost packets: retransmission delays (proxy; percent)
  reset    connections reset (proxy; percent)
  kill     the process killed and left down
  hang     the process stopped (SIGSTOP)
  cpu      a CPU hog inside the process (workers)
  leak     a memory leak inside the process (rate, bytes a second)
  disk     the data directory filling (rate, bytes a second)
  config   a bad config pushed (announced to seer as a change)
  deploy   a faulty build deployed (announced to seer as a deploy)
  dbslow   the database slowed down (ms per query)
Every fault ends by itself after --for, on stop, and when the testbed ends.
`

func runChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, chaosUsage)
		return fmt.Errorf("%w: chaos: give inject, list or stop", errUsage)
	}
	fs := newFlagSet("chaos "+args[0], stderr)
	dir := testbedDir(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	switch args[0] {
	case "inject":
		target := fs.String("target", "", "the service")
		d := fs.Duration("for", time.Minute, "how long the fault lasts")
		var params []string
		fs.Func("param", "K=V tuning the fault (repeatable)", func(s string) error {
			if !strings.Contains(s, "=") {
				return fmt.Errorf("give K=V")
			}
			params = append(params, s)
			return nil
		})
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 || *target == "" {
			fmt.Fprint(stderr, chaosUsage)
			return fmt.Errorf("%w: chaos inject: give KIND and --target", errUsage)
		}
		req := testbed.InjectRequest{Kind: pos[0], Target: *target, For: d.String(), Params: map[string]string{}}
		for _, p := range params {
			k, v, _ := strings.Cut(p, "=")
			req.Params[k] = v
		}
		c, err := testbedClient(*dir)
		if err != nil {
			return err
		}
		var in chaos.Injection
		if err := c.Do(ctx, "POST", "/chaos/inject", req, &in); err != nil {
			return err
		}
		return printInjections(stdout, *asJSON, []chaos.Injection{in})
	case "list", "stop":
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		c, err := testbedClient(*dir)
		if err != nil {
			return err
		}
		var list []chaos.Injection
		if args[0] == "list" {
			err = c.Do(ctx, "GET", "/chaos", nil, &list)
		} else {
			path := "/chaos/stop"
			if len(pos) == 1 {
				path += "?id=" + url.QueryEscape(pos[0])
			}
			err = c.Do(ctx, "POST", path, nil, &list)
		}
		if err != nil {
			return err
		}
		return printInjections(stdout, *asJSON, list)
	}
	fmt.Fprint(stderr, chaosUsage)
	return fmt.Errorf("%w: chaos: unknown command %q", errUsage, args[0])
}

func printInjections(w io.Writer, asJSON bool, list []chaos.Injection) error {
	if asJSON {
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(w, string(b))
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTARGET\tSTART\tUNTIL\tENDED")
	for _, in := range list {
		ended := "active"
		if !in.Active() {
			ended = in.End.Format(time.TimeOnly) + " (" + in.Why + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Kind, in.Target, in.Start.Format(time.TimeOnly), in.Until.Format(time.TimeOnly), ended)
	}
	return tw.Flush()
}
