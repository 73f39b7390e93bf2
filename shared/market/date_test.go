package market

import (
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	// 23:30 UTC on 2026-03-08 is still the 8th in New York (EDT began that day).
	d := DateOf(time.Date(2026, 3, 9, 3, 30, 0, 0, time.UTC))
	if d != (Date{2026, time.March, 8}) || d.String() != "2026-03-08" || d.Weekday() != time.Sunday {
		t.Fatalf("DateOf = %v (%v)", d, d.Weekday())
	}
	if got := d.AddDays(-8); got != (Date{2026, time.February, 28}) || !got.Before(d) || d.Before(got) || d.Before(d) {
		t.Fatalf("AddDays(-8) = %v", got)
	}
	if got := d.At(9, 30); !got.Equal(time.Date(2026, 3, 8, 13, 30, 0, 0, time.UTC)) {
		t.Fatalf("At(9, 30) = %v, want 13:30 UTC (EDT)", got)
	}
}
