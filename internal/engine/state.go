package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// logsStateFile holds the log stage's templates and baselines between runs,
// so that a restart neither forgets which templates are normal nor reports
// every one of them as new again.
const logsStateFile = "logs.state"

// restoreState loads the stages' saved state from the data directory. A
// missing file is a first start; an unreadable or corrupt one is reported and
// the stage starts afresh, because losing learned baselines is better than
// refusing to start.
func (e *Engine) restoreState() {
	path := filepath.Join(e.cfg.DataDir, logsStateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		err = e.logs.UnmarshalBinary(data)
	}
	if err != nil {
		e.logger.Warn("log templates not restored; learning them afresh", "file", path, "err", err)
		return
	}
	e.logger.Info("log templates restored", "file", path, "templates", e.logs.Len())
}

// saveState writes the stages' state to the data directory atomically.
func (e *Engine) saveState() error {
	data, err := e.logs.MarshalBinary()
	if err != nil {
		return fmt.Errorf("saving the log templates: %w", err)
	}
	path := filepath.Join(e.cfg.DataDir, logsStateFile)
	tmp := path + ".tmp"
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("saving the log templates: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("saving the log templates: %w", err)
	}
	return nil
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
