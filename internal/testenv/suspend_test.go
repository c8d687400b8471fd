package testenv

import (
	"testing"
	"time"
)

func TestSuspended(t *testing.T) {
	t0 := time.Now()
	woke := Suspended(t0, 2*time.Hour)
	// Both carry a monotonic reading, which stood still: Go compares by it.
	if d := woke.Sub(t0); d != 0 {
		t.Errorf("monotonic difference = %s, want 0", d)
	}
	// The wall clock moved on.
	if d := woke.Round(0).Sub(t0.Round(0)); d != 2*time.Hour {
		t.Errorf("wall difference = %s, want 2h", d)
	}
}
