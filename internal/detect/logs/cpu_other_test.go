//go:build !unix

package logs

import "testing"

type rusage struct{}

func reportCPU(*testing.B, rusage) {}

func cpuStart() rusage { return rusage{} }
