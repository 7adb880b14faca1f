package loghub

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/seerops/seer/internal/detect/logs"
)

// Dataset is one Loghub sample: its messages in order and their true
// templates.
type Dataset struct {
	Name      string
	Contents  []string
	Templates []string
}

// Report is the score of every dataset and their unweighted average, in the
// shape `seer eval loghub --json` prints.
type Report struct {
	Datasets map[string]Metrics `json:"datasets"`
	Average  Metrics            `json:"average"`
}

// ErrNoData is returned when a directory holds no Loghub dataset.
var ErrNoData = errors.New("no loghub dataset found")

// suffix names the structured, corrected ground truth of a dataset.
const suffix = "_2k.log_structured_corrected.csv"

// Load reads every DIR/<DS>/<DS>_2k.log_structured_corrected.csv, by name.
func Load(dir string) ([]Dataset, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the data dir: %w", err)
	}
	var out []Dataset
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name(), e.Name()+suffix)
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		contents, templates, err := ReadStructured(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		out = append(out, Dataset{Name: e.Name(), Contents: contents, Templates: templates})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w in %s: want DIR/<DS>/<DS>%s", ErrNoData, dir, suffix)
	}
	slices.SortFunc(out, func(a, b Dataset) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}

// ReadStructured reads the Content and EventTemplate columns of a
// structured Loghub CSV.
func ReadStructured(r io.Reader) (contents, templates []string, err error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header: %w", err)
	}
	ci, ti := slices.Index(head, "Content"), slices.Index(head, "EventTemplate")
	if ci < 0 || ti < 0 {
		return nil, nil, fmt.Errorf("header %q: want Content and EventTemplate columns", head)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return contents, templates, nil
		}
		if err != nil {
			return nil, nil, err
		}
		contents = append(contents, rec[ci])
		templates = append(templates, rec[ti])
	}
}

// Parse templates the messages in order with one fresh miner of cfg, online:
// each message is mined once, as it comes. Like a batch parser's output,
// each message gets its template's text as it stands at the end, the text
// it was matched with if the template was evicted since.
func Parse(cfg logs.MinerConfig, contents []string) []string {
	m := logs.NewMiner(cfg)
	ids := make([]uint64, len(contents))
	out := make([]string, len(contents))
	var params []string
	for i, c := range contents {
		r := m.AddInto(c, params)
		params = r.Params
		ids[i], out[i] = r.ID, r.Template
	}
	for i, id := range ids {
		if t, ok := m.Template(id); ok {
			out[i] = t.Text
		}
	}
	return out
}

// Run parses and scores every dataset with the one miner setting cfg.
func Run(ctx context.Context, sets []Dataset, cfg logs.MinerConfig) (Report, error) {
	rep := Report{Datasets: make(map[string]Metrics, len(sets))}
	all := make([]Metrics, 0, len(sets))
	for _, ds := range sets {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		m := Score(ds.Templates, Parse(cfg, ds.Contents))
		rep.Datasets[ds.Name] = m
		all = append(all, m)
	}
	rep.Average = mean(all)
	return rep, nil
}
