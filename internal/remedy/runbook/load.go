package runbook

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// LoadDir loads every *.yaml and *.yml file directly in dir, in name order.
// It returns the runbooks that are good and, joined, an error for each
// problem in the others (`file:line: reason`): one bad file never hides
// the good ones. A name defined twice keeps the first definition.
func LoadDir(dir string) ([]*Runbook, error) {
	files, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	rbs, errs := load(files, os.ReadFile)
	return rbs, errors.Join(errs...)
}

// Check validates runbook files and directories the way `promtool check
// rules` does, for `seer runbook check`: every problem, each as its own
// `file:line: reason` error; nil when all is well.
func Check(paths ...string) []error {
	var files []string
	var errs []error
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		fs, err := listDir(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(fs) == 0 {
			errs = append(errs, fmt.Errorf("%s: no *.yaml or *.yml files", p))
		}
		files = append(files, fs...)
	}
	_, lerrs := load(files, os.ReadFile)
	return append(errs, lerrs...)
}

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the runbook directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && isYAML(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files, nil
}

func isYAML(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// load parses the files, flattening every error so that each names one
// problem, and rejects a name already defined.
func load(files []string, read func(string) ([]byte, error)) ([]*Runbook, []error) {
	var rbs []*Runbook
	var errs []error
	byName := map[string]*Runbook{}
	for _, f := range files {
		data, err := read(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rb, err := Parse(f, data)
		if err != nil {
			errs = append(errs, flatten(err)...)
			continue
		}
		if prev, ok := byName[rb.Name]; ok {
			errs = append(errs, &Error{File: rb.File, Line: rb.Line, Msg: fmt.Sprintf("runbook %q is already defined at %s:%d", rb.Name, prev.File, prev.Line)})
			continue
		}
		byName[rb.Name] = rb
		rbs = append(rbs, rb)
	}
	return rbs, errs
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return slices.Clone(j.Unwrap())
	}
	return []error{err}
}

//go:embed defaults/*.yaml
var defaultFS embed.FS

var defaults = sync.OnceValues(func() ([]*Runbook, error) {
	files, err := fs.Glob(defaultFS, "defaults/*.yaml")
	if err != nil {
		return nil, err
	}
	rbs, errs := load(files, defaultFS.ReadFile)
	return rbs, errors.Join(errs...)
})

// Defaults are the built-in runbooks, one for each cause kind seer's
// analysis names and a fallback that only gathers diagnostics. All are
// dry-run. A user's runbook of higher priority wins over them.
func Defaults() []*Runbook {
	rbs, _ := defaults()
	return slices.Clone(rbs)
}
