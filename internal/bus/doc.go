// Package bus is the stream between seer's stages: ingest publishes signals,
// detectors consume them and publish observations, inference consumes those.
//
// The Bus interface is shaped after a partitioned log such as Kafka: a
// publisher names a topic and a key (the entity), the key picks the
// partition, and each consumer group sees every batch of a topic exactly once
// per group, one partition at a time, so a detector instance owns the state
// of the entities in its partitions. Memory is the in-process implementation
// and the default; a Kafka implementation (kafka/) can replace it without
// the stages noticing.
package bus
