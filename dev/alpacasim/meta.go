package alpacasim

import "encoding/json"

// The meta routes: exchange and condition code tables, as Alpaca publishes
// them. The condition tables are the same for the three tapes: the
// simulator's prints use only codes that mean the same on all of them.

var stockExchangeNames = map[string]string{
	"A": "NYSE American (AMEX)", "B": "NASDAQ OMX BX", "C": "National Stock Exchange", "D": "FINRA ADF",
	"E": "Market Independent", "H": "MIAX", "I": "International Securities Exchange", "J": "Cboe EDGA",
	"K": "Cboe EDGX", "L": "Long Term Stock Exchange", "M": "Chicago Stock Exchange", "N": "New York Stock Exchange",
	"P": "NYSE Arca", "Q": "NASDAQ OMX", "S": "NASDAQ Small Cap", "T": "NASDAQ Int", "U": "Members Exchange",
	"V": "IEX", "W": "CBOE", "X": "NASDAQ OMX PSX", "Y": "Cboe BYX", "Z": "Cboe BZX",
}

var stockTradeConditions = map[string]string{
	"@": "Regular Sale", "A": "Acquisition", "B": "Bunched Trade", "C": "Cash Sale", "D": "Distribution",
	"E": "Placeholder", "F": "Intermarket Sweep", "G": "Bunched Sold Trade", "H": "Price Variation Trade",
	"I": "Odd Lot Trade", "K": "Rule 155 Trade (AMEX)", "L": "Sold Last", "M": "Market Center Official Close",
	"N": "Next Day", "O": "Opening Prints", "P": "Prior Reference Price", "Q": "Market Center Official Open",
	"R": "Seller", "S": "Split Trade", "T": "Form T", "U": "Extended Trading Hours (Sold Out of Sequence)",
	"V": "Contingent Trade", "W": "Average Price Trade", "X": "Cross/Periodic Auction Trade",
	"Y": "Yellow Flag Regular Trade", "Z": "Sold (Out of Sequence)", "1": "Stopped Stock (Regular Trade)",
	"4": "Derivatively Priced", "5": "Re-Opening Prints", "6": "Closing Prints",
	"7": "Qualified Contingent Trade (QCT)", "8": "Placeholder For 611 Exempt",
	"9": "Corrected Consolidated Close (per listing market)",
}

var stockQuoteConditions = map[string]string{
	"A": "Slow Quote Offer Side", "B": "Slow Quote Bid Side", "C": "Closing Quote", "E": "Slow Quote LRP Bid Side",
	"F": "Slow Quote LRP Offer Side", "H": "Slow Quote Bid And Offer Side", "L": "Closed Market Maker",
	"N": "Non-Firm Quote", "O": "Opening Quote", "R": "Regular Two Sided Open",
	"U": "Slow Quote LRP Bid And Offer", "W": "Slow Quote Set Slow List", "4": "On Demand Intra Day Auction",
}

var optionExchangeNames = map[string]string{
	"A": "AMEX - NYSE American Options", "B": "BOX - Boston Options Exchange", "C": "CBOE - Cboe Options Exchange",
	"D": "EMERALD - MIAX Emerald", "E": "EDGX - Cboe EDGX Options", "H": "GEMINI - Nasdaq ISE Gemini",
	"I": "ISE - Nasdaq ISE", "J": "MERCURY - Nasdaq ISE Mercury", "M": "MIAX - Miami International Securities Exchange",
	"N": "ARCA - NYSE Arca Options", "O": "OPRA - Options Price Reporting Authority", "P": "PEARL - MIAX Pearl",
	"Q": "NASDAQ - Nasdaq Options Market", "S": "SPHR - MIAX Sapphire", "T": "BX - Nasdaq BX Options",
	"U": "MEMX - Members Exchange", "W": "C2 - Cboe C2", "X": "PHLX - Nasdaq PHLX", "Z": "BZX - Cboe BZX Options",
}

var optionTradeConditionNames = map[string]string{
	"I": "AUTO - Automatic Execution", "S": "ISOI - Intermarket Sweep", "a": "SLAN - Single Leg Auction Non ISO",
	"b": "SLAI - Single Leg Auction ISO", "c": "SLCN - Single Leg Cross Non ISO", "d": "SLCI - Single Leg Cross ISO",
	"e": "SLFT - Single Leg Floor Trade", "f": "MLET - Multi Leg auto-electronic trade",
	"g": "MLAT - Multi Leg Auction", "h": "MLCT - Multi Leg Cross", "i": "MLFT - Multi Leg floor trade",
	"j": "MESL - Multi Leg auto-electronic trade against single leg(s)", "k": "TLAT - Stock Options Auction",
}

var optionQuoteConditionNames = map[string]string{
	" ": "Regular Trading", "A": "Eligible For Automatic Execution",
	"B": "Bid contains Customer Trading Interest", "C": "Offer contains Customer Trading Interest",
	"D": "Both Bid and Offer contain Customer Trading Interest", "F": "Non-Firm Quote", "R": "Rotation",
	"T": "Trading Halted",
}

// appendJSONMap appends m as a JSON object with sorted keys.
func appendJSONMap(b []byte, m map[string]string) []byte {
	enc, _ := json.Marshal(m)
	return append(b, enc...)
}

func (s *Server) stockExchangesMeta(b []byte, _ request) ([]byte, *apiError) {
	return appendJSONMap(b, stockExchangeNames), nil
}

func (s *Server) optionExchangesMeta(b []byte, _ request) ([]byte, *apiError) {
	return appendJSONMap(b, optionExchangeNames), nil
}

// stockConditionsMeta answers /v2/stocks/meta/conditions/{ticktype}?tape=.
func (s *Server) stockConditionsMeta(b []byte, req request) ([]byte, *apiError) {
	switch req.r.URL.Query().Get("tape") {
	case "", "A", "B", "C":
	default:
		return nil, badRequest("invalid tape")
	}
	switch req.param {
	case "trade":
		return appendJSONMap(b, stockTradeConditions), nil
	case "quote":
		return appendJSONMap(b, stockQuoteConditions), nil
	}
	return nil, badRequest("invalid ticktype")
}

// optionConditionsMeta answers /v1beta1/options/meta/conditions/{ticktype}.
func (s *Server) optionConditionsMeta(b []byte, req request) ([]byte, *apiError) {
	switch req.param {
	case "trade":
		return appendJSONMap(b, optionTradeConditionNames), nil
	case "quote":
		return appendJSONMap(b, optionQuoteConditionNames), nil
	}
	return nil, badRequest("invalid ticktype")
}
