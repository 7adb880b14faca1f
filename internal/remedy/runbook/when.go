package runbook

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/seerops/seer/internal/signal"
)

// Env is what a `when` expression sees: the incident's top cause, the
// incident, and the kinds of all its cause candidates.
type Env struct {
	Cause    CauseEnv    `expr:"cause"`
	Incident IncidentEnv `expr:"incident"`
	Kinds    []string    `expr:"kinds"`
}

// CauseEnv is the top cause as `when` sees it.
type CauseEnv struct {
	Entity string  `expr:"entity"`
	Kind   string  `expr:"kind"`
	Score  float64 `expr:"score"`
}

// IncidentEnv is the incident as `when` sees it.
type IncidentEnv struct {
	ID       int64             `expr:"id"`
	Title    string            `expr:"title"`
	Entities []string          `expr:"entities"`
	Labels   map[string]string `expr:"labels"`
	Status   string            `expr:"status"`
}

// NewEnv builds the `when` environment of an incident, for callers that
// test many runbooks against one incident.
func NewEnv(in *signal.Incident) Env { return newEnv(in) }

func newEnv(in *signal.Incident) Env {
	top := in.Top()
	ks := make([]string, 0, len(in.Causes))
	for _, c := range in.Causes {
		ks = append(ks, c.Kind)
	}
	labels := in.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	entities := in.Entities
	if entities == nil {
		entities = []string{}
	}
	return Env{
		Cause:    CauseEnv{Entity: top.Entity, Kind: top.Kind, Score: top.Score},
		Incident: IncidentEnv{ID: in.ID, Title: in.Title, Entities: entities, Labels: labels, Status: string(in.Status)},
		Kinds:    ks,
	}
}

// envNames turns Go type names in expr's messages into the names a
// runbook author wrote.
var envNames = strings.NewReplacer("type runbook.CauseEnv", "cause", "type runbook.IncidentEnv", "incident", "runbook.Env", "the environment")

// compileWhen type-checks the expression; the error names the line of the
// file (line is where the scalar starts, block says its text starts on the
// next line).
func compileWhen(src string, line int, block bool) (*vm.Program, int, error) {
	prog, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(2000))
	if err == nil {
		return prog, line, nil
	}
	var fe *file.Error
	if errors.As(err, &fe) {
		l := line
		if block {
			l += fe.Line
		} else if fe.Line > 1 {
			l += fe.Line - 1
		}
		return nil, l, fmt.Errorf("%s (column %d)", envNames.Replace(fe.Message), fe.Column+1)
	}
	return nil, line, errors.New(strings.TrimSpace(err.Error()))
}
