// Package infer turns observations into diagnosed incidents: it groups them
// (correlate), ranks each changed incident's root causes on the call graph
// with the recent change events (rca), and keeps the incident's title,
// entities and the time it was first diagnosed as it is now.
package infer
