package remedy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seerops/seer/internal/knowledge"
	"github.com/seerops/seer/internal/remedy/runbook"
	"github.com/seerops/seer/internal/signal"
)

// The statuses a run gives its records, beyond the planner's.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusTimedOut  = "timed-out"
	StatusSkipped   = "skipped"
	// StatusInterrupted is a step seer was running when it stopped without
	// a clean shutdown; a restart records it so.
	StatusInterrupted = "interrupted"
)

// result is what one step did.
type result struct {
	status string
	output string
}

// stepper runs one rendered step for an incident; the Manager's is run,
// tests put others in.
type stepper func(ctx context.Context, s runbook.Step, pl *runbook.Plan, in *signal.Incident) result

// run runs one step within its timeout.
func (m *Manager) run(ctx context.Context, s runbook.Step, pl *runbook.Plan, in *signal.Incident) result {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = m.cfg.CollectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var r result
	switch s.Kind {
	case runbook.KindExec:
		r = m.exec(ctx, s.Exec, pl, in)
	case runbook.KindHTTP:
		r = m.http(ctx, s.HTTP)
	case runbook.KindSignal:
		r = sendSignal(s.Signal)
	case runbook.KindKubectl:
		r = m.kubectl(ctx, s.Kubectl, pl, in)
	case runbook.KindCollect:
		r = m.collect(ctx, s.Collect, in)
	default:
		r = result{StatusFailed, fmt.Sprintf("unknown step kind %q", s.Kind)}
	}
	if r.status != StatusSucceeded && ctx.Err() == context.DeadlineExceeded {
		r.status = StatusTimedOut
		r.output = strings.TrimSpace(r.output + fmt.Sprintf("\nkilled after the step's timeout of %s", timeout))
	}
	return r
}

// childEnv is the whole environment of a step's program: PATH, the
// variables the runbook declares (env:) and pass, when seer has them, and
// the SEER_* values of the incident. Nothing else of seer's environment
// (its own secrets, other runbooks' tokens) reaches the program or, through
// its output, the audit trail.
func childEnv(pl *runbook.Plan, in *signal.Incident, pass ...string) []string {
	env := []string{
		"SEER_INCIDENT_ID=" + strconv.FormatInt(pl.IncidentID, 10),
		"SEER_RUNBOOK=" + pl.Runbook,
		"SEER_TARGET=" + pl.Target,
		"SEER_CAUSE_ENTITY=" + pl.Cause.Entity,
		"SEER_CAUSE_KIND=" + pl.Cause.Kind,
		"SEER_INCIDENT_TITLE=" + in.Title,
	}
	for _, name := range slices.Concat([]string{"PATH"}, pl.Env, pass) {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// exec runs argv without a shell, in its own process group so that a
// timeout kills what it started too. pass names variables of seer's
// environment the program needs beyond the runbook's.
func (m *Manager) exec(ctx context.Context, argv []string, pl *runbook.Plan, in *signal.Incident, pass ...string) result {
	if len(argv) == 0 || argv[0] == "" {
		return result{StatusFailed, "no program to run"}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(pl, in, pass...)
	hook := processOf(ctx)
	if hook != nil && hook.execution != 0 {
		// Marks the process group as this record's, for a restarted seer.
		cmd.Env = append(cmd.Env, processMarker(hook.execution))
	}
	out := &boundedBuffer{max: m.cfg.MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = nil
	setGroup(cmd)
	// A daemon the command started may keep our pipes open; do not wait on
	// it for longer than this once the command itself has exited.
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Start()
	if err == nil {
		if hook != nil && hook.started != nil {
			hook.started(cmd.Process.Pid) // its own group: the pgid is the pid
		}
		err = cmd.Wait()
	}
	text := out.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return result{StatusSucceeded, text}
	case errors.As(err, &ee):
		return result{StatusFailed, strings.TrimSpace(text + "\n" + ee.Error())}
	case errors.Is(err, exec.ErrWaitDelay):
		// The command succeeded; something it left running held its output.
		return result{StatusSucceeded, text}
	default:
		return result{StatusFailed, strings.TrimSpace(text + "\n" + err.Error())}
	}
}

// kubectl runs a rollout verb with kubectl from PATH.
func (m *Manager) kubectl(ctx context.Context, k *runbook.Kubectl, pl *runbook.Plan, in *signal.Incident) result {
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		return result{StatusSkipped, "kubectl is not on PATH, so the step was not run; install kubectl for seer's user or use an exec step"}
	}
	verb, _ := strings.CutPrefix(k.Verb, "rollout-")
	argv := []string{bin, "rollout", verb, "deployment/" + k.Deployment}
	if k.Namespace != "" {
		argv = append(argv, "--namespace", k.Namespace)
	}
	// kubectl finds its cluster and credentials through these.
	return m.exec(ctx, argv, pl, in, "HOME", "KUBECONFIG")
}

// http sends the step's request; a status of 400 or more fails the step.
func (m *Manager) http(ctx context.Context, h *runbook.HTTP) result {
	var body io.Reader
	if h.Body != "" {
		body = strings.NewReader(h.Body)
	}
	req, err := http.NewRequestWithContext(ctx, h.Method, h.URL, body)
	if err != nil {
		return result{StatusFailed, "building the request: " + err.Error()}
	}
	for k, v := range h.Headers {
		req.Header.Set(k, v)
	}
	if h.Body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return result{StatusFailed, err.Error()}
	}
	defer resp.Body.Close()
	out := &boundedBuffer{max: m.cfg.MaxOutput}
	fmt.Fprintf(out, "HTTP %s\n", resp.Status)
	_, err = io.Copy(out, io.LimitReader(resp.Body, int64(m.cfg.MaxOutput)+1))
	if err != nil {
		fmt.Fprintf(out, "\nreading the body: %v", err)
	}
	if resp.StatusCode >= 400 {
		return result{StatusFailed, out.String()}
	}
	return result{StatusSucceeded, out.String()}
}

// collect gathers what seer knows of an entity from the knowledge store:
// its recent observations by source, and its changes and alarms.
func (m *Manager) collect(ctx context.Context, c *runbook.Collect, in *signal.Incident) result {
	now := in.Updated
	if now.IsZero() {
		now = m.now()
	}
	out := &boundedBuffer{max: m.cfg.MaxOutput}
	section := func(title string, src signal.Source, n int, window time.Duration) error {
		q := knowledge.ObservationQuery{Entity: c.Entity, Kinds: kindsOf(src), Limit: n, Until: now.Add(time.Nanosecond)}
		if window > 0 {
			q.Since = now.Add(-window)
		}
		obs, err := m.store.Observations(ctx, q)
		if err != nil {
			return fmt.Errorf("reading %s: %w", title, err)
		}
		fmt.Fprintf(out, "## %s of %s (%d)\n", title, c.Entity, len(obs))
		for _, o := range obs {
			fmt.Fprintln(out, o.String())
			if ex := o.Evidence["example"]; ex != "" {
				fmt.Fprintf(out, "    e.g. %s\n", ex)
			}
		}
		return nil
	}
	var errs []error
	if c.Metrics > 0 {
		errs = append(errs, section("metric observations", signal.SourceMetric, 0, c.Metrics))
	}
	if c.Logs > 0 {
		errs = append(errs, section("log observations", signal.SourceLog, c.Logs, 0))
	}
	if c.Traces > 0 {
		errs = append(errs, section("trace observations", signal.SourceTrace, c.Traces, 0))
	}
	if c.Events > 0 {
		evs, err := m.store.Events(ctx, knowledge.EventQuery{Entity: c.Entity, Since: now.Add(-c.Events), Until: now.Add(time.Nanosecond)})
		if err != nil {
			errs = append(errs, fmt.Errorf("reading events: %w", err))
		} else {
			fmt.Fprintf(out, "## changes and alarms of %s within %s (%d)\n", c.Entity, runbook.FormatDuration(c.Events), len(evs))
			for _, e := range evs {
				fmt.Fprintf(out, "%s %s %s: %s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, e.Entity, e.Text)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return result{StatusFailed, strings.TrimSpace(out.String() + "\n" + err.Error())}
	}
	return result{StatusSucceeded, out.String()}
}

func kindsOf(src signal.Source) []signal.ObsKind {
	var ks []signal.ObsKind
	for _, k := range signal.ObsKinds() {
		if k.Source() == src {
			ks = append(ks, k)
		}
	}
	return ks
}

// boundedBuffer keeps the first max bytes written and counts the rest, so
// that a chatty command cannot fill the audit trail or the memory.
type boundedBuffer struct {
	max     int
	buf     bytes.Buffer
	dropped int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	if b.dropped == 0 {
		return b.buf.String()
	}
	return b.buf.String() + fmt.Sprintf("\n[%d more bytes not kept]", b.dropped)
}
