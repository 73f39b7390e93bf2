package api

import (
	"testing"
)

func TestValidTimeframe(t *testing.T) {
	for _, tf := range []string{"1Min", "59Min", "5T", "1Hour", "23Hour", "4H", "1Day", "1D", "1Week", "1W", "1Month", "2Month", "3M", "4Month", "6Month", "12Month"} {
		if !validTimeframe(tf) {
			t.Errorf("%s rejected", tf)
		}
	}
	for _, tf := range []string{"", "Min", "0Min", "60Min", "01Min", "24Hour", "2Day", "2Week", "5Month", "7M", "1min", "1Sec", "100Min", "1Year", "-1Min"} {
		if validTimeframe(tf) {
			t.Errorf("%s accepted", tf)
		}
	}
}

func TestParseQueryRejectsDuplicates(t *testing.T) {
	if _, err := parseQuery("a=1&a=2"); err == nil {
		t.Fatal("duplicate accepted")
	}
	q, err := parseQuery("symbols=AAPL%2CMSFT&feed=iex")
	if err != nil || q["symbols"] != "AAPL,MSFT" || q["feed"] != "iex" {
		t.Fatalf("%v %v", q, err)
	}
}

func FuzzValidTimeframe(f *testing.F) {
	for _, s := range []string{"1Min", "12Month", "60Min", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = validTimeframe(s) // must not panic
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"symbols=AAPL,MSFT", "a=1&a=2", "%zz", "timeframe=1Day&limit=5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseQuery(s)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T is not a 400", err)
			}
			return
		}
		if len(s) > MaxQueryLen {
			t.Fatalf("accepted a %d-byte query", len(s))
		}
		_ = q
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-27", "2026-11-27T14:30:00Z", "yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _, _ = parseTime(s)
	})
}
