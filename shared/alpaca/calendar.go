package alpaca

import (
	"context"
	"encoding/json"
	"net/url"
)

// CalendarDay is one trading day of the trading host's calendar. Times are
// New York wall-clock times as Alpaca writes them ("09:30", "0400").
type CalendarDay struct {
	Date           string `json:"date"`
	Open           string `json:"open"`
	Close          string `json:"close"`
	SessionOpen    string `json:"session_open"`
	SessionClose   string `json:"session_close"`
	SettlementDate string `json:"settlement_date"`
}

// Calendar returns the trading days between start and end (YYYY-MM-DD,
// either may be "") from GET /v2/calendar on Config.TradingURL. Holidays are
// absent; early closes show in Close.
func (c *Client) Calendar(ctx context.Context, start, end string) ([]CalendarDay, error) {
	u := buildURL(c.tradingURL, "/v2/calendar", nil, url.Values{"start": {start}, "end": {end}})
	var days []CalendarDay
	_, err := c.get(ctx, EndpointCalendar, u, func(b []byte) error {
		var page []CalendarDay
		if err := json.Unmarshal(b, &page); err != nil {
			return err
		}
		if page == nil {
			return errMalformed
		}
		days = page
		return nil
	})
	if err != nil {
		return nil, err
	}
	return days, nil
}
