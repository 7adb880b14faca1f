// Package datafile opens the evaluation sets' files, which the sets store
// plain or gzip-compressed.
package datafile

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Open opens path for reading: a name ending in .gz is gunzipped, and a
// plain name that does not exist is looked for as NAME.gz. The error of a
// file that is neither wraps fs.ErrNotExist and names the plain path.
func Open(path string) (io.ReadCloser, error) {
	if strings.HasSuffix(path, ".gz") {
		return openGzip(path)
	}
	f, err := os.Open(path)
	if err == nil {
		return readCloser{bufio.NewReaderSize(f, 256<<10), f}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rc, gerr := openGzip(path + ".gz")
	if errors.Is(gerr, fs.ErrNotExist) {
		return nil, err
	}
	return rc, gerr
}

func openGzip(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return readCloser{zr, closers{zr, f}}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
