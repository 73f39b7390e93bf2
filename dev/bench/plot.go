package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// systemColors tells ours from the anchors.
var systemColors = map[string]color.Color{
	sysOurs:  color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	sysBare:  color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	sysNaive: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

// percentileGlyphs are the shapes of p50, p95 and p99.
var percentileGlyphs = []struct {
	name  string
	shape draw.GlyphDrawer
	pick  func(*percentiles) float64
}{
	{"p50", draw.CircleGlyph{}, func(p *percentiles) float64 { return p.P50 }},
	{"p95", draw.TriangleGlyph{}, func(p *percentiles) float64 { return p.P95 }},
	{"p99", draw.SquareGlyph{}, func(p *percentiles) float64 { return p.P99 }},
}

// minPlotMS keeps a log axis away from zero.
const minPlotMS = 0.01

// latencyPlot writes a PNG of p50, p95 and p99 per scenario and system, on
// a log scale: one column per (scenario, system), ours in blue beside the
// anchors.
func latencyPlot(rows []loadResult, path string) error {
	if len(rows) == 0 {
		return fmt.Errorf("latency plot: no load results")
	}
	p := plot.New()
	p.Title.Text = "Latency per scenario: ours beside the anchors"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Scenario + "\n" + r.System
	}
	p.NominalX(names...)
	p.Add(plotter.NewGrid())

	lo, hi := 1e9, 0.0
	for _, g := range percentileGlyphs {
		for i, r := range rows {
			if r.Latency == nil {
				continue
			}
			y := max(g.pick(r.Latency), minPlotMS)
			lo, hi = min(lo, y), max(hi, y)
			s, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: y}})
			if err != nil {
				return err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: colorOf(r.System), Radius: vg.Points(4), Shape: g.shape}
			p.Add(s)
		}
		legend, err := plotter.NewScatter(plotter.XYs{{X: 0, Y: lo}})
		if err != nil {
			return err
		}
		legend.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(4), Shape: g.shape}
		p.Legend.Add(g.name, legend)
	}
	for i, r := range rows {
		if r.Latency == nil {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: max(r.Latency.P50, minPlotMS)}, {X: float64(i), Y: max(r.Latency.P99, minPlotMS)}})
		if err != nil {
			return err
		}
		l.LineStyle.Color = colorOf(r.System)
		l.LineStyle.Width = vg.Points(1)
		p.Add(l)
	}
	for _, sys := range []string{sysOurs, sysBare, sysNaive} {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: lo}, {X: 0, Y: lo}})
		if err != nil {
			return err
		}
		l.LineStyle.Color, l.LineStyle.Width = colorOf(sys), vg.Points(3)
		p.Legend.Add(sys, l)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Min, p.Y.Max = lo/2, hi*3
	p.X.Min, p.X.Max = -0.6, float64(len(rows))-0.4
	return p.Save(vg.Length(max(8, len(rows)))*1.1*vg.Inch, 5*vg.Inch, path)
}

func colorOf(system string) color.Color {
	if c, ok := systemColors[system]; ok {
		return c
	}
	return color.Black
}
