package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/opitios/opitios-alpaca/shared/market"
)

// marketStatus is the body of GET /v1/market/status.
type marketStatus struct {
	Timestamp    string `json:"timestamp"`
	Session      string `json:"session"`
	IsOpen       bool   `json:"is_open"`
	SessionStart string `json:"session_start"`
	SessionEnd   string `json:"session_end"`
	NextSession  string `json:"next_session"`
	NextChange   string `json:"next_change"`
	InTable      bool   `json:"calendar_in_table"`
}

// GET /v1/market/status[?at=RFC3339]
func (h *Handler) marketStatus(r *request) response {
	at := r.now
	if s, ok := r.q["at"]; ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || t.Year() < 1970 || t.Year() > 2100 {
			return h.fail(r.ctx, badf("at must be an RFC 3339 instant, e.g. 2026-11-27T14:30:00-05:00"))
		}
		at = t
	}
	span := h.cal.SpanAt(at)
	_, next := h.cal.NextChange(at)
	loc := span.Start.Location()
	body, _ := json.Marshal(marketStatus{
		Timestamp:    at.In(loc).Format(time.RFC3339Nano),
		Session:      string(span.Session),
		IsOpen:       span.Session == market.Regular,
		SessionStart: span.Start.Format(time.RFC3339),
		SessionEnd:   span.End.Format(time.RFC3339),
		NextSession:  string(next),
		NextChange:   span.End.Format(time.RFC3339),
		InTable:      h.cal.InTable(at.In(loc).Year()),
	})
	return ok(body, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store",
		HeaderMarketSession: string(h.cal.SessionAt(r.now))})
}

// health is the body of GET /healthz.
type health struct {
	Status string `json:"status"`
	L2     string `json:"l2"`
}

// GET /healthz
func (h *Handler) health(r *request) response {
	hl := health{Status: "ok", L2: "disabled"}
	if h.cache.HasL2() {
		ctx, cancel := context.WithTimeout(r.ctx, 200*time.Millisecond)
		defer cancel()
		if err := h.cache.Ping(ctx); err != nil {
			hl = health{Status: "degraded", L2: "unavailable"}
		} else {
			hl.L2 = "ok"
		}
	}
	body, _ := json.Marshal(hl)
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}}
}
