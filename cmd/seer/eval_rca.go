package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go.yaml.in/yaml/v3"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/seerops/seer/internal/eval/cases"
	"github.com/seerops/seer/internal/eval/rca"
)

const evalRCAUsage = `usage: seer eval rca --data DIR [--json] [--feedback] [--cases]

Diagnoses every root-cause case under DIR with seer's production inference
and scores the rankings: AC@1, AC@3, Avg@5, per set (PetShop scenario, fault
kind) and the time to diagnosis of replayed cases. The layout is detected:
seer's case layout (case.json; what seer sim suite writes), PetShop
(graph.csv; the test issues are scored) or Sock Shop RCD (normal.csv).
--feedback adds the gain from operator feedback on half of the cases.
`

// runEvalRCA runs `seer eval rca ...`; args start after "rca".
func runEvalRCA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seer eval rca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, evalRCAUsage); fs.PrintDefaults() }
	dir := fs.String("data", "", "the directory of cases")
	asJSON := fs.Bool("json", false, "print one JSON object")
	feedback := fs.Bool("feedback", true, "measure the gain from feedback on half the cases")
	perCase := fs.Bool("cases", false, "include every case's ranking")
	workers := fs.Int("workers", 4, "cases diagnosed at once")
	config := fs.String("config", "", "a YAML file of inference settings (the infer: section of seer's config) to evaluate instead of the defaults")
	protocol := fs.String("protocol", rca.Streaming, "streaming (seer finds the incident itself) or alerted (an investigation at each case's alert time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: eval rca: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dir == "" {
		fs.Usage()
		return fmt.Errorf("%w: eval rca: --data DIR is required", errUsage)
	}
	if *protocol != rca.Streaming && *protocol != rca.Alerted {
		return fmt.Errorf("%w: eval rca: --protocol must be streaming or alerted, got %q", errUsage, *protocol)
	}
	cs, layout, err := cases.Load(*dir)
	if err != nil {
		return err
	}
	o := rca.Options{Workers: *workers, Protocol: *protocol}
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&o.Infer); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", *config, err)
		}
		if err := o.Infer.Validate(); err != nil {
			return fmt.Errorf("%s: %w", *config, err)
		}
	}
	rep, err := rca.Run(ctx, cs, layout, o)
	if err != nil {
		return err
	}
	if *feedback {
		g, err := rca.Feedback(ctx, cs, o)
		if err != nil {
			return err
		}
		rep.Feedback = &g
	}
	if !*perCase {
		rep.Results = nil
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "%s (%s): %d cases  AC@1 %.3f  AC@3 %.3f  Avg@5 %.3f\n", layout, rep.Protocol, rep.Cases, rep.AC1, rep.AC3, rep.Avg5)
	if b := rep.Baseline; b != nil {
		fmt.Fprintf(stdout, "  baseline (largest robust change of an entity's own series): AC@1 %.3f  AC@3 %.3f  Avg@5 %.3f\n", b.AC1, b.AC3, b.Avg5)
	}
	for _, k := range slices.Sorted(maps.Keys(rep.Sets)) {
		s := rep.Sets[k]
		line := fmt.Sprintf("  %-16s %3d cases  AC@1 %.3f  AC@3 %.3f  Avg@5 %.3f", k, s.Cases, s.AC1, s.AC3, s.Avg5)
		if rep.DiagnosisMaxS > 0 {
			line += fmt.Sprintf("  diagnosed: median %3.0fs, right within 30s %3.0f%% (%3.0f%% of effect)",
				s.DiagnosisMedianS, 100*s.DiagnosedIn30s, 100*s.DiagnosedIn30sEffect)
		}
		fmt.Fprintln(stdout, line)
	}
	if rep.DiagnosisMaxS > 0 {
		fmt.Fprintf(stdout, "  diagnosis: median %.0fs, worst %.0fs; root cause ranked top within 30s of the onset %.0f%%, of the fault taking effect %.0f%%\n",
			rep.DiagnosisMedianS, rep.DiagnosisMaxS, 100*rep.DiagnosedIn30s, 100*rep.DiagnosedIn30sEffect)
	}
	if g := rep.Feedback; g != nil {
		fmt.Fprintf(stdout, "  feedback on %d cases: held-out AC@1 %.3f → %.3f, AC@3 %.3f → %.3f, Avg@5 %.3f → %.3f\n",
			g.Learned, g.Before.AC1, g.After.AC1, g.Before.AC3, g.After.AC3, g.Before.Avg5, g.After.Avg5)
	}
	return nil
}
