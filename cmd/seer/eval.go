package main

import (
	"context"
	"fmt"
	"io"
)

const evalUsage = `seer eval runs seer on a public benchmark and scores it with the benchmark's own metrics.

  seer eval nab    --data DIR [--json] [--scores FILE.csv[.gz]]   Numenta Anomaly Benchmark
  seer eval loghub --data DIR [--json]                            Loghub-2k log parsing
  seer eval rca    --data DIR [--json]                            root-cause cases (public sets, seer sim suite)
  seer eval tsad   --data DIR [--json] [--scores FILE.csv[.gz]]   multivariate server metrics (ASD, SMD), point-wise
  seer eval host   [--healthy 30m] [--short] [--json]              this host's real Prometheus stack, healthy then real faults
  seer eval overload [--for 10m] [--rate-factor 5] [--limit 1GiB] [--short] [--json]
                                                                  seer run under 5× its sustainable ingest: RSS and recovery
`

// runEval dispatches to the benchmark harnesses.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, evalUsage)
		return fmt.Errorf("%w: name a benchmark: nab, loghub, rca, tsad, host or overload", errUsage)
	}
	switch args[0] {
	case "nab":
		return runEvalNAB(ctx, args[1:], stdout, stderr)
	case "loghub":
		return runEvalLoghub(ctx, args[1:], stdout, stderr)
	case "rca":
		return runEvalRCA(ctx, args[1:], stdout, stderr)
	case "tsad":
		return runEvalTSAD(ctx, args[1:], stdout, stderr)
	case "host":
		return runEvalHost(ctx, args[1:], stdout, stderr)
	case "overload":
		return runEvalOverload(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, evalUsage)
		return fmt.Errorf("%w: unknown benchmark %q", errUsage, args[0])
	}
}
