package feed

import (
	"github.com/vigie/vigie/listener/sources"
)

// Factory builds a feed Source from its entry in the sources file (type
// "rss", for RSS, Atom and JSON Feed alike):
//
//   - type: rss
//     name: velora-press
//     settings:
//     url: https://example.com/feed.xml
//     interval: 10m
//     match: [velora, "night train"]
func Factory(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
	cfg := Config{Name: sc.Name}
	if err := sc.Decode(&cfg); err != nil {
		return sources.Instance{}, err
	}
	src, err := New(cfg, Deps{Cursors: d.Cursors, Health: d.Health, HTTP: d.HTTP, Logger: d.Logger, Metrics: d.Metrics})
	if err != nil {
		return sources.Instance{}, sc.Errorf("%v", err)
	}
	return sources.Instance{Source: src}, nil
}
