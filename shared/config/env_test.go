package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestInt(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    int
		wantErr bool
	}{
		{"unset uses default", "", 50, false},
		{"blank uses default", "   ", 50, false},
		{"value", "75", 75, false},
		{"trimmed", " 75 ", 75, false},
		{"min inclusive", "1", 1, false},
		{"max inclusive", "100", 100, false},
		{"below min", "0", 0, true},
		{"above max", "101", 0, true},
		{"not a number", "fifty", 0, true},
		{"float", "7.5", 0, true},
		{"overflow", "99999999999999999999999", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Int(env(map[string]string{"N": tt.value}), "N", 50, 1, 100)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Int(%q) = %d, %v; want %d, error %v", tt.value, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "N=") {
				t.Fatalf("error %q does not name the variable", err)
			}
		})
	}
}

func TestFloat(t *testing.T) {
	tests := []struct {
		value   string
		want    float64
		wantErr bool
	}{
		{"", 0.5, false},
		{"0.25", 0.25, false},
		{"0", 0, false},
		{"1", 1, false},
		{"1.01", 0, true},
		{"-0.1", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"-Inf", 0, true},
		{"half", 0, true},
	}
	for _, tt := range tests {
		got, err := Float(env(map[string]string{"SHARE": tt.value}), "SHARE", 0.5, 0, 1)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Float(%q) = %g, %v; want %g, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 5 * time.Minute, false},
		{"30s", 30 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"1s", time.Second, false},
		{"1h", time.Hour, false},
		{"999ms", 0, true},
		{"61m", 0, true},
		{"30", 0, true}, // no unit
		{"soon", 0, true},
	}
	for _, tt := range tests {
		got, err := Duration(env(map[string]string{"D": tt.value}), "D", 5*time.Minute, time.Second, time.Hour)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Duration(%q) = %s, %v; want %s, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		value   string
		def     bool
		want    bool
		wantErr bool
	}{
		{"", true, true, false},
		{"", false, false, false},
		{"true", false, true, false},
		{"TRUE", false, true, false},
		{"1", false, true, false},
		{"false", true, false, false},
		{"0", true, false, false},
		{"yes", true, false, true},
	}
	for _, tt := range tests {
		got, err := Bool(env(map[string]string{"B": tt.value}), "B", tt.def)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Bool(%q, def %v) = %v, %v; want %v, error %v", tt.value, tt.def, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"", nil},
		{" , ,", nil},
		{"AAPL", []string{"AAPL"}},
		{"AAPL, MSFT,,SPY ", []string{"AAPL", "MSFT", "SPY"}},
		{"\tAAPL\t,\nMSFT", []string{"AAPL", "MSFT"}},
	}
	for _, tt := range tests {
		if got := List(env(map[string]string{"L": tt.value}), "L"); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func TestEnvErrorNamesVariableAndWithholdsSecretValues(t *testing.T) {
	tests := []struct {
		name      string
		showValue bool
	}{
		{EnvRedisTimeoutMS, true},
		{EnvPrefetchTopN, true},
		{"SOME_SECRET_VALUE", false},
		{"DB_PASSWORD", false},
		{"api_token", false},
		{EnvAlpacaSecretKey, false},
		{EnvRedisAuthARN, false},
		{EnvRedisURL, false},
		{"MY_CREDENTIALS", false},
	}
	const value = "hunter2-not-a-number"
	for _, tt := range tests {
		_, err := Int(env(map[string]string{tt.name: value}), tt.name, 1, 0, 10)
		var envErr *EnvError
		if !errors.As(err, &envErr) {
			t.Fatalf("%s: error %v is not an *EnvError", tt.name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.name) {
			t.Errorf("%s: error %q does not name the variable", tt.name, msg)
		}
		if got := strings.Contains(msg, value); got != tt.showValue {
			t.Errorf("%s: error %q shows the value = %v, want %v", tt.name, msg, got, tt.showValue)
		}
		if !tt.showValue && envErr.Value != "" {
			t.Errorf("%s: EnvError.Value = %q, want it withheld", tt.name, envErr.Value)
		}
	}
}
