package catalog

import "strings"

// ID is a route's index in Routes: its value in the metrics' Route
// dimension.
type ID uint16

// Names lists every route's Path, indexed by ID.
func Names() []string {
	out := make([]string, len(Routes))
	for i := range Routes {
		out[i] = Routes[i].Path
	}
	return out
}

// literal maps the path of every route without a {parameter} to its ID.
var literal = func() map[string]ID {
	m := make(map[string]ID, len(Routes))
	for i := range Routes {
		if !strings.Contains(Routes[i].Path, "{") {
			m[Routes[i].Path] = ID(i)
		}
	}
	return m
}()

// template is a route path with one {parameter}, split around it.
type template struct {
	prefix, suffix string
	id             ID
}

// templates are the routes with a {parameter}, in catalog order.
var templates = func() []template {
	var out []template
	for i := range Routes {
		p := Routes[i].Path
		if open := strings.IndexByte(p, '{'); open >= 0 {
			end := open + strings.IndexByte(p[open:], '}')
			out = append(out, template{prefix: p[:open], suffix: p[end+1:], id: ID(i)})
		}
	}
	return out
}()

// Match finds the route of a request path and the value of its
// {parameter}, raw. Matching is literal: no decoding, no dot segments, and
// the parameter is one non-empty segment. A route without a parameter wins
// over one with (/v2/stocks/bars is not the bars of a symbol "bars").
func Match(path string) (id ID, param string, ok bool) {
	if id, ok := literal[path]; ok {
		return id, "", true
	}
	for _, t := range templates {
		if len(path) <= len(t.prefix)+len(t.suffix) || !strings.HasPrefix(path, t.prefix) || !strings.HasSuffix(path, t.suffix) {
			continue
		}
		v := path[len(t.prefix) : len(path)-len(t.suffix)]
		if strings.IndexByte(v, '/') < 0 {
			return t.id, v, true
		}
	}
	return 0, "", false
}

// fill returns tmpl with v in place of its {parameter}.
func fill(tmpl, v string) string {
	open := strings.IndexByte(tmpl, '{')
	if open < 0 {
		return tmpl
	}
	end := strings.IndexByte(tmpl[open:], '}') + open
	return tmpl[:open] + v + tmpl[end+1:]
}

// VersionPrefixes are the first segments of the Market Data API's paths. A
// GET under one of them that no route matches is passed through.
var VersionPrefixes = []string{"/v1/", "/v1beta1/", "/v1beta2/", "/v1beta3/", "/v2/"}

// UnderAPI reports whether path lies under one of VersionPrefixes.
func UnderAPI(path string) bool {
	for _, p := range VersionPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Templates are the API Gateway route templates of the API: every route's
// Path, then one greedy route per version prefix (/v2/{proxy+}) that
// carries pass-through requests to the same handler.
func Templates() []string {
	out := Names()
	for _, p := range VersionPrefixes {
		out = append(out, p+"{proxy+}")
	}
	return out
}
