package bus

import (
	"context"
	"errors"

	"github.com/seerops/seer/internal/signal"
)

// Topic names a stream between two stages.
type Topic string

// The topics of seer's pipeline.
const (
	// Signals carries telemetry and events from ingest to the detectors,
	// keyed by entity.
	Signals Topic = "signals"
	// Observations carries what the detectors recognised to the knowledge
	// store and inference.
	Observations Topic = "observations"
)

// Handler consumes one batch. It must not modify the batch: every consumer
// group is handed the same one. An error is counted and logged; the batch is
// not redelivered by the in-process bus.
type Handler func(ctx context.Context, b *signal.Batch) error

// Bus carries batches between stages.
type Bus interface {
	// Publish hands b to every group subscribed to topic, on the partition
	// that key maps to. It blocks while the partition's queue is full (back
	// pressure) until ctx is done, and then returns ErrFull.
	Publish(ctx context.Context, topic Topic, key string, b *signal.Batch) error
	// Subscribe registers h as consumer group group of topic. Subscriptions
	// are made before the first Publish.
	Subscribe(topic Topic, group string, h Handler) error
}

// Errors returned by buses.
var (
	// ErrFull is returned when a batch could not be queued before the
	// publisher's context ended: the batch is shed and counted.
	ErrFull = errors.New("bus: queue full, batch shed")
	// ErrClosed is returned by Publish after Close.
	ErrClosed = errors.New("bus: closed")
)
