package codecheck

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
)

var update = flag.Bool("update", false, "rewrite README.md's route table from the catalog")

const tableStart, tableEnd = "<!-- routes: generated from shared/catalog by go test ./dev/codecheck -update -->", "<!-- /routes -->"

// routeTable is the README's table of every catalog route.
func routeTable() string {
	var b strings.Builder
	b.WriteString("| Route | Class | TTL | Cached as |\n|---|---|---|---|\n")
	for _, r := range catalog.Routes {
		fmt.Fprintf(&b, "| `GET %s%s` | %s | %s | %s |\n", r.Path, querySuffix(&r), className(r.Class), ttlOf(r.Class), cachedAs(&r))
	}
	for _, p := range catalog.VersionPrefixes {
		fmt.Fprintf(&b, "| `GET %s…` (any other) | — | — | passed through uncached (`X-Cache: BYPASS`) |\n", p)
	}
	return b.String()
}

func querySuffix(r *catalog.Route) string {
	if r.Multi() {
		return "?symbols="
	}
	return ""
}

func className(dt cache.DataType) string {
	if dt == "" {
		return "—"
	}
	return "`" + string(dt) + "`"
}

// ttlOf states a class's TTL in the regular session and outside it.
func ttlOf(dt cache.DataType) string {
	if dt == "" {
		return "—"
	}
	d := cache.MaxAge(dt)
	if !dt.SessionBound() {
		return short(d) + " at any hour"
	}
	return fmt.Sprintf("%s (×%d pre/after-hours, ×%d closed, cut at the session's end)", short(d),
		cache.SessionMultiplier("pre_market"), cache.SessionMultiplier("closed"))
}

func short(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func cachedAs(r *catalog.Route) string {
	switch r.Shape {
	case catalog.Latest:
		return "per symbol, shared by single and multi forms"
	case catalog.Page:
		return "per normalised query and page"
	}
	return "not cached"
}

func TestReadmeListsEveryRoute(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i, j := strings.Index(s, tableStart), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q block", tableStart, tableEnd)
	}
	want := tableStart + "\n" + routeTable() + tableEnd
	if s[i:j+len(tableEnd)] == want {
		return
	}
	if !*update {
		t.Fatal("README.md's route table differs from the catalog: run go test ./dev/codecheck -update")
	}
	if err := os.WriteFile(path, []byte(s[:i]+want+s[j+len(tableEnd):]), 0o644); err != nil {
		t.Fatal(err)
	}
}
