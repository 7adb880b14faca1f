package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/seerops/seer/internal/engine"
	"github.com/seerops/seer/internal/memlimit"
)

func runEngine(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	configFile := fs.String("config", "", "YAML configuration file (defaults are embedded)")
	dataDir := fs.String("data-dir", "", "directory of the knowledge store (default: data, or the config's data_dir)")
	addr := fs.String("http", "", "address of the API (default 127.0.0.1:7070)")
	otlpGRPC := fs.String("otlp-grpc", "", `address of the OTLP/gRPC receiver (default 127.0.0.1:4317; "off" turns it off)`)
	otlpHTTP := fs.String("otlp-http", "", `address of the OTLP/HTTP receiver (default 127.0.0.1:4318; "off" turns it off)`)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := engine.Load(*configFile)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *addr != "" {
		cfg.HTTPAddr = *addr
	}
	for _, o := range []struct {
		flag string
		into *string
	}{{*otlpGRPC, &cfg.OTLP.GRPCAddr}, {*otlpHTTP, &cfg.OTLP.HTTPAddr}} {
		switch o.flag {
		case "":
		case "off":
			*o.into = ""
		default:
			*o.into = o.flag
		}
	}
	if cfg.Memory.LimitBytes > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// The runtime collects harder as its memory nears the limit,
		// which leaves room in memory.limit_bytes for the pages of the
		// binary; GOMEMLIMIT, when set, wins.
		debug.SetMemoryLimit(memlimit.RuntimeLimit(cfg.Memory, executableSize()))
	}
	e, err := engine.New(ctx, cfg, logger, engine.Hooks{})
	if err != nil {
		return err
	}
	logger.Info("seer started", "data_dir", cfg.DataDir, "http", cfg.HTTPAddr, "version", version)
	runErr := e.Run(ctx)
	if err := e.Close(); err != nil {
		return fmt.Errorf("closing: %w", err)
	}
	return runErr
}

// executableSize is the size of this binary, or 0 when it cannot be
// found: a bound on the resident pages it takes.
func executableSize() int64 {
	p, err := os.Executable()
	if err != nil {
		return 0
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: give debug, info, warn or error", errUsage, level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
