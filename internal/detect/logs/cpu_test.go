//go:build unix

package logs

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds the process CPU time per op, which stays meaningful when
// the machine is shared and wall time is not.
func reportCPU(b *testing.B, start syscall.Rusage) {
	var end syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &end) != nil {
		return
	}
	cpu := time.Duration(end.Utime.Nano() + end.Stime.Nano() - start.Utime.Nano() - start.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func cpuStart() syscall.Rusage {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return r
}
