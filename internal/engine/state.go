package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The files that hold what the stages learned between runs, so that a
// restart is not blind: the log stage's templates and baselines (neither
// forgetting which templates are normal nor reporting every one as new
// again), the metric detectors' baselines (no warm-up per series again),
// the trace stage's per-operation baselines, call structures, localisation
// baselines and topology (no warm-up per operation again) and inference's
// recent window (the change sweep and investigations judge against the
// minutes before the restart).
const (
	logsStateFile   = "logs.state"
	metricStateFile = "metric.state"
	traceStateFile  = "trace.state"
	windowStateFile = "window.state"
)

// learned is one stage's state as it is saved.
type learned struct {
	file, what string
	state      interface {
		MarshalBinary() ([]byte, error)
		UnmarshalBinary([]byte) error
	}
}

func (e *Engine) learned() []learned {
	return []learned{
		{logsStateFile, "log templates", e.logs},
		{metricStateFile, "metric baselines", e.metrics},
		{traceStateFile, "trace baselines", e.trace},
		{windowStateFile, "recent window", e.inferrer.Window()},
	}
}

// restoreState loads the stages' saved state from the data directory. A
// missing file is a first start; an unreadable or corrupt one is reported and
// that stage starts afresh, because losing learned baselines is better than
// refusing to start.
func (e *Engine) restoreState() {
	for _, l := range e.learned() {
		path := filepath.Join(e.cfg.DataDir, l.file)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = l.state.UnmarshalBinary(data)
		}
		if err != nil {
			e.logger.Warn(l.what+" not restored; learning afresh", "file", path, "err", err)
			continue
		}
		e.logger.Info(l.what+" restored", "file", path, "bytes", len(data))
	}
}

// saveState writes the stages' state to the data directory, each file
// atomically.
func (e *Engine) saveState() error {
	var errs []error
	for _, l := range e.learned() {
		data, err := l.state.MarshalBinary()
		if err == nil {
			path := filepath.Join(e.cfg.DataDir, l.file)
			tmp := path + ".tmp"
			if err = writeSynced(tmp, data); err == nil {
				err = os.Rename(tmp, path)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("saving the %s: %w", l.what, err))
		}
	}
	return errors.Join(errs...)
}

// writeSynced writes data to a new file at path and syncs it to disk, so
// that the rename that follows never publishes a file with holes.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
