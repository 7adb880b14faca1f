package remedy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/seerops/seer/internal/remedy/runbook"
)

// fileSet is the state of a watched runbook directory: the built-in
// runbooks, the last good runbook of every file, and what the files looked
// like when last read.
type fileSet struct {
	builtin []*runbook.Runbook
	good    map[string]*runbook.Runbook // file → last good runbook
	seen    string                      // fingerprint of the directory
}

func newFileSet(builtin []*runbook.Runbook) *fileSet {
	return &fileSet{builtin: slices.Clone(builtin), good: map[string]*runbook.Runbook{}}
}

// fingerprint names, sizes and modification times of the YAML files in
// dir: what changes when someone edits, adds or removes a runbook.
func fingerprint(dir string) (string, []string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, fmt.Errorf("reading the runbook directory: %w", err)
	}
	var b strings.Builder
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.Type().IsRegular() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		files = append(files, p)
		fmt.Fprintf(&b, "%s\x00%d\x00%d\n", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), files, nil
}

// LoadDir reads the runbooks in dir, in file-name order, ahead of the
// built-in ones. A bad file is reported (`file:line: reason`, joined in the
// error) and its last good version, if any, stays in use; the other files
// load regardless. A name defined twice keeps the first file's.
func (m *Manager) LoadDir(dir string) error {
	_, err := m.reload(dir, true)
	return err
}

// reload reads dir if it changed since last read (or force), and reports
// whether it did.
func (m *Manager) reload(dir string, force bool) (bool, error) {
	fp, files, err := fingerprint(dir)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	fs := m.files
	same := fp == fs.seen
	m.mu.Unlock()
	if same && !force {
		return false, nil
	}
	var errs []error
	good := map[string]*runbook.Runbook{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		var rb *runbook.Runbook
		if err == nil {
			rb, err = runbook.Parse(f, data)
		}
		if err != nil {
			errs = append(errs, err)
			if old := fs.good[f]; old != nil {
				good[f] = old
				errs = append(errs, fmt.Errorf("%s: keeping its last good version until it is fixed", f))
			}
			continue
		}
		good[f] = rb
	}
	var own []*runbook.Runbook
	byName := map[string]*runbook.Runbook{}
	for _, f := range files {
		rb := good[f]
		if rb == nil {
			continue
		}
		if prev := byName[rb.Name]; prev != nil {
			errs = append(errs, &runbook.Error{File: rb.File, Line: rb.Line, Msg: fmt.Sprintf("runbook %q is already defined at %s:%d", rb.Name, prev.File, prev.Line)})
			delete(good, f)
			continue
		}
		byName[rb.Name] = rb
		own = append(own, rb)
	}
	m.mu.Lock()
	fs.good, fs.seen = good, fp
	m.mu.Unlock()
	m.planner.SetRunbooks(append(own, fs.builtin...))
	err = errors.Join(errs...)
	m.log.Info("runbooks loaded", "dir", dir, "own", len(own), "builtin", len(fs.builtin), "problems", countErrs(err))
	if err != nil {
		m.log.Error("some runbooks were rejected; the others are in use", "dir", dir, "err", err)
	}
	return true, err
}

func countErrs(err error) int {
	if err == nil {
		return 0
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n := 0
		for _, e := range j.Unwrap() {
			n += countErrs(e)
		}
		return n
	}
	return 1
}

// Watch reloads the runbooks in dir whenever its files change, checking
// every cfg.Reload, until ctx ends. Problems are logged; the runbooks in
// use stay in use.
func (m *Manager) Watch(ctx context.Context, dir string) {
	t := time.NewTicker(m.cfg.Reload)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := m.reload(dir, false)
			// reload logs what it rejected; an unreadable directory is
			// warned about once, not every tick.
			if !changed && err != nil && err.Error() != last {
				m.log.Warn("cannot watch the runbook directory; the runbooks in use stay in use", "dir", dir, "err", err)
			}
			if err != nil {
				last = err.Error()
			} else {
				last = ""
			}
		}
	}
}
