package loghub

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/seerops/seer/internal/detect/logs"
)

func TestAlign(t *testing.T) {
	f := func(msg, tmpl, want string, wantOK bool) {
		t.Helper()
		spans, ok := align(msg, tmpl)
		var got []string
		for _, s := range spans {
			got = append(got, msg[s[0]:s[1]])
		}
		if ok != wantOK || strings.Join(got, "|") != want {
			t.Errorf("align(%q, %q) = %q %v, want %q %v", msg, tmpl, got, ok, want, wantOK)
		}
	}
	f("a 1 b 22", "a <*> b <*>", "1|22", true)
	f("x=1,y=2", "x=<*>,y=<*>", "1|2", true)
	f("no vars", "no vars", "", true)
	f("a 1 c", "a <*> b", "", false)
	f("<*>", "<*>", "<*>", true)
}

func TestMixRedraws(t *testing.T) {
	sets := []Dataset{{Name: "A", Contents: []string{"took 95 ms from 10.0.0.255:8080 in node7"}, Templates: []string{"took <*> ms from <*> in node7"}}}
	lines, truth := MixLines(sets, 50, 1)
	seen := map[string]bool{}
	for i, l := range lines {
		c := l[strings.Index(l, ": ")+2:]
		if !strings.HasPrefix(c, "took ") || !strings.HasSuffix(c, " in node7") || truth[i] != "A\x00took <*> ms from <*> in node7" {
			t.Fatalf("line %q truth %q", l, truth[i])
		}
		seen[c] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct messages in 50: digits not redrawn", len(seen))
	}
	var buf bytes.Buffer
	st, err := Mix(&buf, sets, 50, 1)
	if err != nil || st.Lines != 50 || st.Templates != 1 || st.Unaligned != 0 || st.Bytes != buf.Len() {
		t.Errorf("Mix: %+v %v", st, err)
	}
	if got := strings.Join(lines, "\n") + "\n"; got != buf.String() {
		t.Error("Mix and MixLines disagree")
	}
	if _, err := Mix(&buf, []Dataset{{Name: "empty"}}, 10, 1); !errors.Is(err, ErrNoData) {
		t.Errorf("no messages: %v", err)
	}
}

var mixOnce struct {
	sync.Once
	lines, truth []string
	content      []string
	err          error
}

// mixData is the 200,000-line mix of the shared samples, made once.
func mixData(tb testing.TB) (lines, content, truth []string) {
	tb.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		tb.Skipf("loghub 2k samples not found at %s (shared/data/loghub2k): %v", dataDir, err)
	}
	mixOnce.Do(func() {
		sets, err := Load(dataDir)
		if err != nil {
			mixOnce.err = err
			return
		}
		mixOnce.lines, mixOnce.truth = MixLines(sets, 200_000, 1)
		f, err := logs.ParseFormat(MixFormat)
		if err != nil {
			mixOnce.err = err
			return
		}
		var fields []string
		mixOnce.content = make([]string, len(mixOnce.lines))
		for i, l := range mixOnce.lines {
			fields, _ = f.Split(l, fields)
			mixOnce.content[i] = fields[f.Content()]
		}
	})
	if mixOnce.err != nil {
		tb.Fatal(mixOnce.err)
	}
	return mixOnce.lines, mixOnce.content, mixOnce.truth
}

// TestMixTemplates mines the 200,000-line mix and checks that the count of
// templates is within 10 % of the true count, and the grouping holds.
func TestMixTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("mines 200,000 lines")
	}
	_, content, truth := mixData(t)
	want := len(uniqStrings(truth))
	pred := Parse(logs.MinerConfig{}, content)
	got := len(uniqStrings(pred))
	m := Score(truth, pred)
	t.Logf("templates %d, true %d; GA %.3f PA-like %.3f", got, want, m.GA, m.FGA)
	if d := float64(got-want) / float64(want); d > 0.1 || d < -0.1 {
		t.Errorf("%d templates, want %d ± 10%%", got, want)
	}
}

func uniqStrings(s []string) map[string]struct{} {
	m := make(map[string]struct{}, 64)
	for _, x := range s {
		m[x] = struct{}{}
	}
	return m
}

// BenchmarkMinerMix mines the messages of the 200,000-line mix of the ten
// shared samples, cycling, one line an op.
func BenchmarkMinerMix(b *testing.B) {
	_, content, _ := mixData(b)
	var bytes int64
	for _, l := range content {
		bytes += int64(len(l))
	}
	b.SetBytes(bytes / int64(len(content)))
	m := logs.NewMiner(logs.MinerConfig{})
	var params []string
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		params = m.AddInto(content[i%len(content)], params).Params
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
