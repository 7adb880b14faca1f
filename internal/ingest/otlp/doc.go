// Package otlp receives OpenTelemetry metrics, logs and traces over OTLP,
// gRPC (default 127.0.0.1:4317) and HTTP (default 127.0.0.1:4318, protobuf
// or JSON, optionally gzip), and hands them to the pipeline as seer's
// signals.
//
// The resource names the entity: service.name, else the Kubernetes
// workload (k8s.deployment.name, k8s.statefulset.name, k8s.daemonset.name),
// else k8s.pod.name, else "host:"+host.name. The instance
// (service.instance.id, else k8s.pod.name, else host.name) is kept as the
// label or attribute "instance", never folded into the entity.
//
// Gauges and non-monotonic sums become samples as they are. Monotonic sums
// become per-second rates named with delta.RateName ("requests_total" →
// "requests_rate"): a cumulative sum from the difference to its previous
// point (a reset counts from zero), a delta sum over its own window.
// Histograms (explicit and exponential) and summaries become NAME_p50,
// NAME_p95, NAME_p99 and NAME_rate. Spans keep their attributes
// (peer.service and error.type included); log severities come from the
// severity number, else the text.
package otlp
