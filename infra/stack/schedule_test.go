package stack

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// cronMatcher evaluates the subset of EventBridge cron expressions the
// schedule uses: cron(minutes hours day-of-month month day-of-week year)
// with fields "*", "?", "N", "N-M" and day names, in UTC.
type cronMatcher struct {
	minute, hour, dom, month, dow, year func(int) bool
}

var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCronField(f string, names map[string]int) (func(int) bool, error) {
	if f == "*" || f == "?" {
		return func(int) bool { return true }, nil
	}
	num := func(s string) (int, error) {
		if n, ok := names[s]; ok {
			return n, nil
		}
		return strconv.Atoi(s)
	}
	lo, hi, isRange := strings.Cut(f, "-")
	a, err := num(lo)
	if err != nil {
		return nil, err
	}
	b := a
	if isRange {
		if b, err = num(hi); err != nil {
			return nil, err
		}
	}
	return func(v int) bool { return a <= v && v <= b }, nil
}

func parseCron(expr string) (cronMatcher, error) {
	inner, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return cronMatcher{}, fmt.Errorf("%q is not cron(...)", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 6 {
		return cronMatcher{}, fmt.Errorf("%q has %d fields, want 6", expr, len(fields))
	}
	var m cronMatcher
	targets := []*func(int) bool{&m.minute, &m.hour, &m.dom, &m.month, &m.dow, &m.year}
	for i, f := range fields {
		var names map[string]int
		if i == 4 {
			names = dayNames
		}
		fn, err := parseCronField(f, names)
		if err != nil {
			return cronMatcher{}, fmt.Errorf("%q field %d: %w", expr, i, err)
		}
		*targets[i] = fn
	}
	return m, nil
}

func (m cronMatcher) matches(t time.Time) bool {
	t = t.UTC()
	return m.minute(t.Minute()) && m.hour(t.Hour()) && m.dom(t.Day()) && m.month(int(t.Month())) &&
		m.dow(int(t.Weekday())+1) && m.year(t.Year())
}

// For every minute of four weeks around both 2025 DST changes, prefetch is
// invoked at every New York weekday minute from 04:00 to 20:00, never on a
// New York weekend, and at most one extra hour a weekday.
func TestPrefetchSchedulesCoverTheTradingDayInBothDSTRegimes(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var matchers []cronMatcher
	for _, sc := range PrefetchSchedules {
		m, err := parseCron(sc.Expression)
		if err != nil {
			t.Fatal(err)
		}
		matchers = append(matchers, m)
	}
	for _, span := range []struct{ from, to time.Time }{
		{time.Date(2025, 3, 1, 0, 0, 0, 0, ny), time.Date(2025, 3, 16, 0, 0, 0, 0, ny)},   // EST -> EDT on Mar 9
		{time.Date(2025, 10, 25, 0, 0, 0, 0, ny), time.Date(2025, 11, 9, 0, 0, 0, 0, ny)}, // EDT -> EST on Nov 2
	} {
		extra := map[string]int{} // New York date -> invoked minutes outside 04:00-20:00
		for at := span.from; at.Before(span.to); at = at.Add(time.Minute) {
			invoked := false
			for _, m := range matchers {
				invoked = invoked || m.matches(at)
			}
			local := at.In(ny)
			weekday := local.Weekday() != time.Saturday && local.Weekday() != time.Sunday
			inDay := local.Hour() >= 4 && local.Hour() < 20
			switch {
			case weekday && inDay && !invoked:
				t.Fatalf("no prefetch at %s (%s UTC)", local.Format(time.RFC3339), at.UTC().Format("Mon 15:04"))
			case !weekday && invoked:
				t.Fatalf("prefetch on a New York weekend at %s", local.Format(time.RFC3339))
			case !inDay && invoked:
				extra[local.Format("2006-01-02")]++
			}
		}
		for day, n := range extra {
			if n > 60 {
				t.Errorf("%s: %d invocations outside 04:00-20:00 New York, want at most 60", day, n)
			}
		}
	}
}

func TestParseCronRejectsMalformedExpressions(t *testing.T) {
	for _, expr := range []string{"rate(1 minute)", "cron(* * * *)", "cron(* X ? * MON-FRI *)"} {
		if _, err := parseCron(expr); err == nil {
			t.Errorf("parseCron(%q) accepted it", expr)
		}
	}
}

func TestScheduleResources(t *testing.T) {
	x := synth(t, nil)
	prefetch, dlq := x.logicalID(x.s.Prefetch), x.logicalID(x.s.PrefetchDLQ)
	check(t, "two rules", func() { x.tmpl.ResourceCountIs(str("AWS::Events::Rule"), num(2)) })
	for _, sc := range PrefetchSchedules {
		check(t, "rule "+sc.Expression, func() {
			x.tmpl.HasResourceProperties(str("AWS::Events::Rule"), obj(map[string]any{
				"ScheduleExpression": sc.Expression,
				"State":              "ENABLED",
				"Targets": list(map[string]any{
					"Arn":              getAtt(prefetch, "Arn"),
					"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 2},
					"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq, "Arn")},
				}),
			}))
		})
	}
	check(t, "dead-letter queue encrypted", func() {
		x.tmpl.HasResourceProperties(str("AWS::SQS::Queue"), obj(map[string]any{"SqsManagedSseEnabled": true}))
	})
	check(t, "dead-letter queue denies plain HTTP", func() {
		x.tmpl.HasResourceProperties(str("AWS::SQS::QueuePolicy"), obj(map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(list(assertions.Match_ObjectLike(obj(map[string]any{
				"Effect":    "Deny",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}))))},
		}))
	})
	check(t, "late prefetch events dropped, not retried", func() {
		x.tmpl.HasResourceProperties(str("AWS::Lambda::EventInvokeConfig"), obj(map[string]any{
			"FunctionName":             ref(prefetch),
			"MaximumEventAgeInSeconds": 60,
			"MaximumRetryAttempts":     0,
			"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlq, "Arn")}},
		}))
	})
}
