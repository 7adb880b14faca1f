package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/seerops/seer/internal/signal"
	"github.com/seerops/seer/internal/sim/export"
	"github.com/seerops/seer/internal/sim/scenario"
)

// runSim runs a scenario of the simulated world (`seer sim --scenario FILE`)
// or writes a suite of labelled cases (`seer sim suite`).
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "suite" {
		return runSimSuite(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("seer sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("scenario", "", "the scenario YAML file to run")
	speed := fs.Float64("speed", 0, "simulated seconds per wall-clock second (0: as fast as possible)")
	otlp := fs.String("otlp", "", "send the signals to this OTLP endpoint: http://host:4318 (HTTP) or host:4317 (gRPC)")
	out := fs.String("out", "", "write the run as a case directory under DIR")
	live := fs.Bool("live", false, "feed a running seer in real time: the first fault happens now, the history before it is backfilled at once (implies real-time pace)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("%w: seer sim needs --scenario FILE (or: seer sim suite --cases N --out DIR)", errUsage)
	}
	if *otlp != "" && *out != "" {
		return fmt.Errorf("%w: give --otlp or --out, not both", errUsage)
	}
	if *speed < 0 {
		return fmt.Errorf("%w: --speed must not be negative", errUsage)
	}
	if *live && (*out != "" || *speed != 0) {
		return fmt.Errorf("%w: --live paces with the wall clock; it goes with --otlp, not --out or --speed", errUsage)
	}
	sc, err := scenario.Load(*file)
	if err != nil {
		return err
	}
	if sc.Name == "" {
		sc.Name = "scenario"
	}
	if *out != "" {
		if err := scenario.WriteCase(ctx, sc, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote case %s/%s\n", *out, sc.Name)
		return nil
	}
	var counts struct{ Samples, Logs, Spans, Events int }
	sink := func(b signal.Batch) error {
		counts.Samples += len(b.Samples)
		counts.Logs += len(b.Logs)
		counts.Spans += len(b.Spans)
		counts.Events += len(b.Events)
		return nil
	}
	if *otlp != "" {
		o, err := export.NewOTLP(*otlp)
		if err != nil {
			return err
		}
		defer o.Close()
		count := sink
		sink = func(b signal.Batch) error {
			count(b)
			return o.Send(ctx, b)
		}
	}
	sleep := sleepCtx
	if *live {
		sleep = liveClock(&sc, time.Now())
		*speed = 1
	}
	w, err := sc.Run(ctx, *speed, sleep, sink)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{
		"scenario": sc.Name, "system": w.Name(), "samples": counts.Samples, "logs": counts.Logs,
		"spans": counts.Spans, "events": counts.Events, "truth": w.Truth(),
	})
}

// liveClock shifts sc so that its first fault (or its middle, without
// faults) happens at now, and returns a pace for Run that lets the history
// before now go at once and keeps every later step to the wall clock: a
// running seer, ticking on the wall clock, sees the world as if it were live.
func liveClock(sc *scenario.Scenario, now time.Time) func(context.Context, time.Duration) error {
	lead := sc.Duration / 2
	for i, f := range sc.Faults {
		if i == 0 || f.At < lead {
			lead = f.At
		}
	}
	sc.Start = now.Add(-lead).Truncate(time.Second)
	step := sc.WorldConfig().Step
	simNow := sc.Start
	return func(ctx context.Context, _ time.Duration) error {
		simNow = simNow.Add(step)
		if wait := time.Until(simNow); wait > 0 {
			return sleepCtx(ctx, wait)
		}
		return nil
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// runSimSuite writes labelled cases on random topologies (or one), in parallel.
func runSimSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer sim suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("cases", 100, "how many cases to write")
	seed := fs.Int64("seed", 1, "the seed of the suite: the same seed, the same cases")
	out := fs.String("out", "", "the directory to write the cases under")
	par := fs.Int("parallel", runtime.GOMAXPROCS(0), "how many cases to simulate at once")
	one := fs.Bool("one-system", false, "put every case on one random system (one platform's incidents: what feedback can learn from), not each on its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *n <= 0 || *par <= 0 {
		return fmt.Errorf("%w: seer sim suite needs --out DIR, --cases N > 0 and --parallel > 0", errUsage)
	}
	scs, err := scenario.Suite(*n, *seed, *one)
	if err != nil {
		return err
	}
	jobs := make(chan int)
	errs := make([]error, len(scs))
	var wg sync.WaitGroup
	for range *par {
		wg.Go(func() {
			for i := range jobs {
				errs[i] = scenario.WriteCase(ctx, scs[i], *out)
			}
		})
	}
	began := time.Now()
	for i := range scs {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d cases under %s in %s\n", len(scs), *out, time.Since(began).Round(time.Millisecond))
	return nil
}
