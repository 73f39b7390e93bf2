package market

import "time"

// nyseDays is the embedded exchange calendar for 2025–2028: every full-day
// closure and every 13:00 early close that falls on a weekday.
//
// Source: NYSE Group, "Holidays and Trading Hours"
// (https://www.nyse.com/markets/hours-calendars), the published holiday and
// early-close calendars for 2025 through 2028, including the one-off closure of
// 2025-01-09 (national day of mourning for President Jimmy Carter). NYSE does
// not move a Saturday New Year's Day to the preceding Friday, so 2028 has no
// New Year holiday and 2027-12-31 is a normal trading day.
//
// Extending the table: add the year to nyseFirstYear..nyseLastYear and its rows
// below; the tests check the per-year counts against the reference.
var nyseDays = []special{
	// 2025
	{Date{2025, time.January, 1}, false, "New Year's Day"},
	{Date{2025, time.January, 9}, false, "National Day of Mourning for President Jimmy Carter"},
	{Date{2025, time.January, 20}, false, "Martin Luther King, Jr. Day"},
	{Date{2025, time.February, 17}, false, "Washington's Birthday"},
	{Date{2025, time.April, 18}, false, "Good Friday"},
	{Date{2025, time.May, 26}, false, "Memorial Day"},
	{Date{2025, time.June, 19}, false, "Juneteenth National Independence Day"},
	{Date{2025, time.July, 3}, true, "Early close before Independence Day"},
	{Date{2025, time.July, 4}, false, "Independence Day"},
	{Date{2025, time.September, 1}, false, "Labor Day"},
	{Date{2025, time.November, 27}, false, "Thanksgiving Day"},
	{Date{2025, time.November, 28}, true, "Early close after Thanksgiving Day"},
	{Date{2025, time.December, 24}, true, "Early close on Christmas Eve"},
	{Date{2025, time.December, 25}, false, "Christmas Day"},

	// 2026
	{Date{2026, time.January, 1}, false, "New Year's Day"},
	{Date{2026, time.January, 19}, false, "Martin Luther King, Jr. Day"},
	{Date{2026, time.February, 16}, false, "Washington's Birthday"},
	{Date{2026, time.April, 3}, false, "Good Friday"},
	{Date{2026, time.May, 25}, false, "Memorial Day"},
	{Date{2026, time.June, 19}, false, "Juneteenth National Independence Day"},
	{Date{2026, time.July, 3}, false, "Independence Day (observed)"},
	{Date{2026, time.September, 7}, false, "Labor Day"},
	{Date{2026, time.November, 26}, false, "Thanksgiving Day"},
	{Date{2026, time.November, 27}, true, "Early close after Thanksgiving Day"},
	{Date{2026, time.December, 24}, true, "Early close on Christmas Eve"},
	{Date{2026, time.December, 25}, false, "Christmas Day"},

	// 2027
	{Date{2027, time.January, 1}, false, "New Year's Day"},
	{Date{2027, time.January, 18}, false, "Martin Luther King, Jr. Day"},
	{Date{2027, time.February, 15}, false, "Washington's Birthday"},
	{Date{2027, time.March, 26}, false, "Good Friday"},
	{Date{2027, time.May, 31}, false, "Memorial Day"},
	{Date{2027, time.June, 18}, false, "Juneteenth National Independence Day (observed)"},
	{Date{2027, time.July, 5}, false, "Independence Day (observed)"},
	{Date{2027, time.September, 6}, false, "Labor Day"},
	{Date{2027, time.November, 25}, false, "Thanksgiving Day"},
	{Date{2027, time.November, 26}, true, "Early close after Thanksgiving Day"},
	{Date{2027, time.December, 24}, false, "Christmas Day (observed)"},

	// 2028
	{Date{2028, time.January, 17}, false, "Martin Luther King, Jr. Day"},
	{Date{2028, time.February, 21}, false, "Washington's Birthday"},
	{Date{2028, time.April, 14}, false, "Good Friday"},
	{Date{2028, time.May, 29}, false, "Memorial Day"},
	{Date{2028, time.June, 19}, false, "Juneteenth National Independence Day"},
	{Date{2028, time.July, 3}, true, "Early close before Independence Day"},
	{Date{2028, time.July, 4}, false, "Independence Day"},
	{Date{2028, time.September, 4}, false, "Labor Day"},
	{Date{2028, time.November, 23}, false, "Thanksgiving Day"},
	{Date{2028, time.November, 24}, true, "Early close after Thanksgiving Day"},
	{Date{2028, time.December, 25}, false, "Christmas Day"},
}

// The years nyseDays covers completely.
const (
	nyseFirstYear = 2025
	nyseLastYear  = 2028
)
