package alpacasim

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
)

// Logos: /v1beta1/logos/{symbol} answers a 32×32 PNG, its colours drawn from
// the symbol, for a known stock or crypto base (BTC, ETH, ...). An unknown
// symbol is a 404 unless placeholder=true, which gives a grey placeholder.

const logoSize = 32

// logoImage draws a two-colour badge: a disc on a square, colours from h.
func logoImage(h uint64, grey bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, logoSize, logoSize))
	bg := color.RGBA{uint8(draw(h, 1)), uint8(draw(h, 2)), uint8(draw(h, 3)), 255}
	fg := color.RGBA{255 - bg.R, 255 - bg.G, 255 - bg.B, 255}
	if grey {
		bg, fg = color.RGBA{200, 200, 200, 255}, color.RGBA{150, 150, 150, 255}
	}
	r := logoSize/2 - 4 - int(draw(h, 4)%4)
	for y := range logoSize {
		for x := range logoSize {
			dx, dy := x-logoSize/2, y-logoSize/2
			if dx*dx+dy*dy <= r*r {
				img.SetRGBA(x, y, fg)
			} else {
				img.SetRGBA(x, y, bg)
			}
		}
	}
	return img
}

// logoKnown reports whether sym has a logo: a known stock or crypto root.
func (s *Server) logoKnown(sym string) bool {
	if _, ok := s.lookup(sym); ok {
		return true
	}
	for _, c := range CryptoSymbols() {
		if root, _, _ := strings.Cut(c, "/"); root == sym && !strings.Contains(c, "-PERP") {
			return true
		}
	}
	return false
}

// logo answers GET /v1beta1/logos/{symbol}?placeholder=.
func (s *Server) logo(b []byte, req request) ([]byte, *apiError) {
	placeholder := false
	if v := req.r.URL.Query().Get("placeholder"); v != "" {
		var err error
		if placeholder, err = strconv.ParseBool(v); err != nil {
			return nil, badRequest("invalid placeholder")
		}
	}
	if !validStockSymbol(req.param) {
		return nil, invalidSymbol(req.param)
	}
	known := s.logoKnown(req.param)
	if !known && !placeholder {
		return nil, &apiError{http.StatusNotFound, 40410000, "logo not found"}
	}
	buf := bytes.NewBuffer(b)
	if err := png.Encode(buf, logoImage(hashString(s.seed, "logo:"+req.param), !known)); err != nil {
		return nil, &apiError{http.StatusInternalServerError, 50010000, "internal server error"}
	}
	return buf.Bytes(), nil
}
