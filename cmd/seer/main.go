// Command seer is the AIOps engine: it watches metrics, logs, traces and
// change events, recognises what means trouble, names the root cause and
// nominates the fix. Run `seer help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `seer — detect, diagnose and remediate, for microservice platforms.

Usage:
  seer run   [--config FILE] [--data-dir DIR] [--http ADDR]   run the engine
  seer demo  [--fault KIND] [--target SVC] [--json] [--stay]  the engine on a simulated shop
  seer logs  parse [FILE|-] [--format F] [--json]              mine log templates from a stream
  seer event deploy|config|upgrade|... --service S [--text T]  send a change event to a running seer
  seer investigate --at T [--service S]                        rank the causes of trouble around T
  seer runbook check FILE|DIR...                               validate runbooks
  seer eval  nab|loghub|rca|tsad --data DIR [--json]          score seer on a public benchmark
  seer eval  host [--short] [--json]                           this host's Prometheus stack, healthy, then real faults
  seer eval  overload [--for 10m] [--short] [--json]           seer under 5× its sustainable ingest: memory, recovery
  seer testbed up|run --for D|down|campaign                   a real shop of processes with seer watching it
  seer chaos inject KIND --target S --for D | list | stop     real faults in the testbed
  seer sim   --scenario FILE | suite --cases N --out DIR       the simulated world
  seer feedback INCIDENT --confirm|--reject ENTITY             tell seer whether it was right
  seer approve|reject INCIDENT [--reason TEXT]                 decide a runbook waiting for approval
  seer incidents [--status S] [--since 24h] | incident show ID list incidents, show one
  seer ack|resolve|reopen INCIDENT                             take an incident on, close it, open it again
  seer silence add MATCHERS --for D | list | expire ID         keep what matches out of incidents for a while
  seer token new --role ROLE [--name NAME]                    make an API token (read, ingest, operate, admin)
  seer version

Run 'seer COMMAND -h' for a command's flags. The commands that talk to a
running seer send the token in SEER_TOKEN, when set.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a mistake in the command line: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "seer:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "seer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runEngine(ctx, rest, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "logs":
		return runLogs(ctx, rest, stdin, stdout, stderr)
	case "event":
		return runEvent(ctx, rest, stdout, stderr)
	case "investigate":
		return runInvestigate(ctx, rest, stdout, stderr)
	case "runbook":
		return runRunbook(rest, stdout, stderr)
	case "eval":
		return runEval(ctx, rest, stdout, stderr)
	case "sim":
		return runSim(ctx, rest, stdout, stderr)
	case "testbed":
		return runTestbed(ctx, rest, stdout, stderr)
	case "chaos":
		return runChaos(ctx, rest, stdout, stderr)
	case "feedback":
		return runFeedback(ctx, rest, stdout, stderr)
	case "approve", "reject":
		return runApprove(ctx, args, stdout, stderr)
	case "incidents":
		return runIncidents(ctx, rest, stdout, stderr)
	case "incident":
		return runIncident(ctx, rest, stdout, stderr)
	case "ack", "resolve", "reopen":
		return runAct(ctx, args, stdout, stderr)
	case "silence":
		return runSilence(ctx, rest, stdout, stderr)
	case "token":
		return runToken(rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "seer", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("seer "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("seer runbook check dir --x"), and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
