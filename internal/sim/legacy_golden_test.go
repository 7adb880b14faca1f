package sim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestLegacyGolden guards the default shop's output: NewShop with the config
// the engine's closed loop uses must stay byte for byte what it was, so that
// the tuned engine tests keep meaning what they meant.
func TestLegacyGolden(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.TraceSampling = 0.2 })
	h := sha256.New()
	for i := range 1800 {
		switch i {
		case 100:
			for _, f := range []Fault{
				{Kind: FaultLatency, Target: "db", Duration: 3 * time.Minute},
				{Kind: FaultCrash, Target: "notification", Start: w.Now().Add(4 * time.Minute), Duration: 2 * time.Minute},
				{Kind: FaultErrors, Target: "payment", Start: w.Now().Add(7 * time.Minute), Duration: 2 * time.Minute},
				{Kind: FaultLeak, Target: "user", Start: w.Now().Add(10 * time.Minute), Duration: 12 * time.Minute, Magnitude: 3},
				{Kind: FaultCPU, Target: "catalog", Start: w.Now().Add(12 * time.Minute), Duration: 3 * time.Minute},
				{Kind: FaultCrash, Target: "cart", Start: w.Now().Add(20 * time.Minute), Duration: time.Minute},
			} {
				if err := w.Inject(f); err != nil {
					t.Fatal(err)
				}
			}
		}
		b := w.Step()
		js, _ := json.Marshal(b)
		h.Write(js)
	}
	got := fmt.Sprintf("%x", h.Sum(nil))
	if os.Getenv("SIM_GOLDEN_WRITE") != "" {
		os.WriteFile("testdata/legacy.sha256", []byte(got+"\n"), 0o644)
		return
	}
	want, err := os.ReadFile("testdata/legacy.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if got+"\n" != string(want) {
		t.Fatalf("the default shop's output changed: hash %s, want %s", got, want)
	}
}
