package delta

import (
	"math"
	"strings"

	"github.com/seerops/seer/internal/signal"
)

// Quantiles are the quantiles a histogram is summarised by, with the suffix
// of the series each becomes ("latency" → "latency_p99").
var Quantiles = [...]struct {
	Q      float64
	Suffix string
}{{0.5, "_p50"}, {0.95, "_p95"}, {0.99, "_p99"}}

// RateName is the name of a counter's rate series: a "_total" suffix is
// dropped and "_rate" added ("http_requests_total" → "http_requests_rate").
func RateName(name string) string {
	return strings.TrimSuffix(name, "_total") + "_rate"
}

// AppendWindow appends the samples that summarise a histogram window: the
// rate of observations as base+"_rate" and, when there were any, the
// quantiles. tmpl gives the time, entity and labels.
func AppendWindow(out []signal.Sample, tmpl signal.Sample, base string, w Window) []signal.Sample {
	tmpl.Name, tmpl.Value = base+"_rate", w.Rate()
	out = append(out, tmpl)
	if w.Count <= 0 {
		return out
	}
	for _, q := range Quantiles {
		v := w.Quantile(q.Q)
		if math.IsNaN(v) {
			continue
		}
		tmpl.Name, tmpl.Value = base+q.Suffix, v
		out = append(out, tmpl)
	}
	return out
}
