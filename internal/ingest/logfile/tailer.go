package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seerops/seer/internal/detect/logs"
	"github.com/seerops/seer/internal/ingest/guard"
	"github.com/seerops/seer/internal/signal"
)

// Sink takes the signals a tailer read; (*engine.Engine).Ingest is one.
type Sink interface {
	Ingest(ctx context.Context, b *signal.Batch) error
}

// File is one file to follow.
type File struct {
	Path string `yaml:"path"`
	// Entity is the service (or host) the file's lines are about.
	Entity string `yaml:"entity"`
	// Format is the header layout; empty means whole lines are bodies.
	Format string `yaml:"format"`
	// Multiline says which lines continue the record before them, so
	// that a stack trace is one record with its message: "indent",
	// "unformatted" (lines that do not fit Format) or "start=REGEXP";
	// empty means every line is a record. A record waits for its next
	// line at most one poll.
	Multiline string `yaml:"multiline"`
}

// Config configures a Tailer.
type Config struct {
	Files []File `yaml:"files"`
	// Poll is how often the files are checked for new lines and rotation.
	Poll time.Duration `yaml:"poll"`
	// MaxLineBytes cuts longer lines (the rest is dropped and counted).
	MaxLineBytes int `yaml:"max_line_bytes"`
	// BatchSize is the most records handed on at once.
	BatchSize int `yaml:"batch_size"`
	// FromStart reads files that exist at start from their beginning;
	// otherwise only lines written after seer started are read.
	FromStart bool `yaml:"from_start"`
}

// DefaultConfig polls every 250 ms, cuts lines at 64 KiB and starts at the
// end of existing files.
func DefaultConfig() Config {
	return Config{Poll: 250 * time.Millisecond, MaxLineBytes: 64 << 10, BatchSize: 1000}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	for i, f := range c.Files {
		if f.Path == "" {
			errs = append(errs, fmt.Errorf("tail.files[%d].path is empty", i))
		}
		if f.Entity == "" {
			errs = append(errs, fmt.Errorf("tail.files[%d].entity is empty; name the service the file is about", i))
		} else if err := signal.CheckEntity(f.Entity); err != nil {
			errs = append(errs, fmt.Errorf("tail.files[%d].entity: %w", i, err))
		}
		var format *logs.Format
		if f.Format != "" {
			var err error
			if format, err = logs.ParseFormat(f.Format); err != nil {
				errs = append(errs, fmt.Errorf("tail.files[%d].format: %w", i, err))
			}
		}
		if _, err := logs.ParseContinuation(f.Multiline, format); err != nil && (format != nil || f.Format == "") {
			errs = append(errs, fmt.Errorf("tail.files[%d].multiline: %w", i, err))
		}
	}
	if c.Poll <= 0 {
		errs = append(errs, fmt.Errorf("tail.poll must be positive, got %s", c.Poll))
	}
	if c.MaxLineBytes < 64 {
		errs = append(errs, fmt.Errorf("tail.max_line_bytes must be at least 64, got %d", c.MaxLineBytes))
	}
	if c.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("tail.batch_size must be at least 1, got %d", c.BatchSize))
	}
	return errors.Join(errs...)
}

// Tailer follows files and hands their lines on. Poll and Run must not be
// called concurrently.
type Tailer struct {
	cfg   Config
	sink  Sink
	log   *slog.Logger
	files []*follow
	now   func() time.Time
	m     metrics
	buf   []byte
	batch []signal.LogRecord
}

// follow is the state of one followed file.
type follow struct {
	File
	format  *logs.Format
	f       *os.File
	info    os.FileInfo
	off     int64
	partial []byte
	// skipping is set while the rest of an over-long line is dropped.
	skipping bool
	started  bool
	fields   []string
	// join gathers lines into records; fresh is set when a line came
	// since the last poll.
	join  *logs.Joiner
	fresh bool
}

// New builds a Tailer; files are opened by the first Poll.
func New(cfg Config, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Tailer{cfg: cfg, sink: sink, log: logger.With("component", "ingest.logfile"), now: time.Now,
		m: newMetrics(reg), buf: make([]byte, 64<<10)}
	for _, f := range cfg.Files {
		fl := &follow{File: f}
		if f.Format != "" {
			fl.format, _ = logs.ParseFormat(f.Format)
		}
		if c, _ := logs.ParseContinuation(f.Multiline, fl.format); c != nil {
			fl.join = logs.NewJoiner(c)
		}
		t.files = append(t.files, fl)
	}
	return t, nil
}

// Run polls until ctx ends, then closes the files.
func (t *Tailer) Run(ctx context.Context) error {
	defer t.Close()
	tick := time.NewTicker(t.cfg.Poll)
	defer tick.Stop()
	for {
		if err := t.Poll(ctx); err != nil && ctx.Err() == nil {
			t.log.Warn("tailing failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Close closes the open files.
func (t *Tailer) Close() error {
	var errs []error
	for _, fl := range t.files {
		if fl.f != nil {
			errs = append(errs, fl.f.Close())
			fl.f = nil
		}
	}
	return errors.Join(errs...)
}

// Poll reads what was written to every file since the last poll, follows
// rotations, and hands the records on.
func (t *Tailer) Poll(ctx context.Context) error {
	var errs []error
	for _, fl := range t.files {
		if err := t.poll(ctx, fl); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fl.Path, err))
		}
	}
	errs = append(errs, t.flush(ctx))
	return errors.Join(errs...)
}

func (t *Tailer) poll(ctx context.Context, fl *follow) error {
	if fl.f == nil {
		if err := t.open(fl, !fl.started && !t.cfg.FromStart); err != nil {
			return err
		}
		if fl.f == nil {
			return nil // not there yet
		}
	}
	// Truncated in place: start again.
	if st, err := fl.f.Stat(); err == nil && st.Size() < fl.off {
		t.m.rotations.WithLabelValues("truncate").Inc()
		if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		fl.off, fl.partial, fl.skipping = 0, fl.partial[:0], false
	}
	if err := t.read(ctx, fl); err != nil {
		return err
	}
	// A record no line has joined for a whole poll is complete.
	if !fl.fresh {
		t.endRecord(fl)
	}
	fl.fresh = false
	// Renamed away and replaced: the old file is drained, read the new one.
	st, err := os.Stat(fl.Path)
	if err != nil || os.SameFile(st, fl.info) {
		return nil
	}
	t.m.rotations.WithLabelValues("rename").Inc()
	t.endLine(fl)
	t.endRecord(fl)
	fl.f.Close()
	fl.f = nil
	if err := t.open(fl, false); err != nil || fl.f == nil {
		return err
	}
	return t.read(ctx, fl)
}

// open opens the file, at its end when atEnd.
func (t *Tailer) open(fl *follow, atEnd bool) error {
	f, err := os.Open(fl.Path)
	if errors.Is(err, os.ErrNotExist) {
		fl.started = true
		return nil
	}
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	fl.f, fl.info, fl.off, fl.partial, fl.skipping, fl.started = f, st, 0, fl.partial[:0], false, true
	if atEnd {
		if fl.off, err = f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			fl.f = nil
			return err
		}
	}
	return nil
}

// read reads to the end of the file, emitting whole lines.
func (t *Tailer) read(ctx context.Context, fl *follow) error {
	for {
		n, err := fl.f.Read(t.buf)
		fl.off += int64(n)
		data := t.buf[:n]
		for len(data) > 0 {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				t.appendPartial(fl, data)
				break
			}
			t.appendPartial(fl, data[:i])
			data = data[i+1:]
			t.endLine(fl)
			if len(t.batch) >= t.cfg.BatchSize {
				if err := t.flush(ctx); err != nil {
					return err
				}
			}
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (t *Tailer) appendPartial(fl *follow, b []byte) {
	if fl.skipping {
		return
	}
	if room := t.cfg.MaxLineBytes - len(fl.partial); len(b) > room {
		b = b[:room]
		fl.skipping = true
		t.m.lines.WithLabelValues("cut").Inc()
	}
	fl.partial = append(fl.partial, b...)
}

// endLine turns the line gathered so far into a record, or with a
// continuation rule adds it to the record it continues.
func (t *Tailer) endLine(fl *follow) {
	line := strings.TrimRight(string(fl.partial), "\r")
	fl.partial, fl.skipping = fl.partial[:0], false
	if fl.join == nil {
		t.emit(fl, line)
		return
	}
	if fl.join.Add(line, func(rec []byte) { t.emit(fl, string(rec)) }) {
		t.m.lines.WithLabelValues("joined").Inc()
	}
	fl.fresh = true
}

// endRecord hands on the record gathered so far, if any.
func (t *Tailer) endRecord(fl *follow) {
	if fl.join != nil {
		fl.join.Flush(func(rec []byte) { t.emit(fl, string(rec)) })
	}
}

// emit turns a record's text into a log record, unless it is blank.
func (t *Tailer) emit(fl *follow, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	t.batch = append(t.batch, t.record(fl, text))
	t.m.lines.WithLabelValues("read").Inc()
}

func (t *Tailer) flush(ctx context.Context) error {
	if len(t.batch) == 0 {
		return nil
	}
	b := &signal.Batch{Logs: t.batch}
	t.batch = nil
	if err := t.sink.Ingest(ctx, b); err != nil {
		t.m.lines.WithLabelValues("sink_failed").Add(float64(len(b.Logs)))
		return fmt.Errorf("handing on %d log records: %w", len(b.Logs), err)
	}
	return nil
}

// record parses one line.
func (t *Tailer) record(fl *follow, line string) signal.LogRecord {
	rec := signal.LogRecord{Entity: fl.Entity, Body: line, Severity: signal.GuessSeverity(line)}
	var stamp string
	if fl.format != nil {
		var ok bool
		fl.fields, ok = fl.format.Split(line, fl.fields)
		if ok {
			rec.Severity = signal.SeverityInfo
			var date, clock string
			for i, name := range fl.format.Names() {
				v := fl.fields[i]
				switch strings.ToLower(name) {
				case "content":
					rec.Body = v
				case "level", "severity", "lvl":
					rec.Severity = signal.ParseSeverity(v)
				case "date":
					date = v
				case "time":
					clock = v
				case "timestamp", "datetime":
					stamp = v
				default:
					if rec.Attrs == nil {
						rec.Attrs = make(map[string]string, len(fl.fields))
					}
					rec.Attrs[name] = v
				}
			}
			if i := fl.format.Content(); i >= 0 {
				rec.Body = fl.fields[i]
			}
			if stamp == "" {
				stamp = strings.TrimSpace(date + " " + clock)
			}
		} else {
			t.m.lines.WithLabelValues("unformatted").Inc()
		}
	}
	rec.Time = parseTime(stamp, t.now())
	return rec
}

// layouts are the time stamps tried, most common first.
var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05,999",
	"2006-01-02T15:04:05.999999999",
	"2006/01/02 15:04:05.999999999",
	"060102 150405",
	"01/02/2006 15:04:05",
	"Jan _2 15:04:05",
}

// parseTime reads a stamp, or gives now: a line's time of writing is close
// to when it is read.
func parseTime(s string, now time.Time) time.Time {
	if s == "" {
		return now
	}
	for _, l := range layouts {
		if ts, err := time.ParseInLocation(l, s, time.Local); err == nil {
			if ts.Year() == 0 {
				ts = ts.AddDate(now.Year(), 0, 0)
			}
			return ts
		}
	}
	return now
}

type metrics struct {
	lines     *prometheus.CounterVec
	rotations *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_logfile_lines_total",
			Help: "Lines of tailed files: read (records), joined (to the record before), cut (over max_line_bytes), unformatted (did not fit the format), sink_failed.",
		}, []string{"outcome"}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seer_logfile_rotations_total",
			Help: "Rotations of tailed files followed, by kind (rename, truncate).",
		}, []string{"kind"}),
	}
	if reg != nil {
		m.lines, m.rotations = guard.Register(reg, m.lines), guard.Register(reg, m.rotations)
	}
	return m
}
