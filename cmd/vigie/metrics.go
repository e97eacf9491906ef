package main

import (
	"regexp"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// registry is the Prometheus registry, remembering the name of every metric
// registered: a vector with no series yet is absent from a scrape, and
// deploy/'s dashboards and alerts must only name metrics that exist.
type registry struct {
	*prometheus.Registry
	mu    sync.Mutex
	names map[string]bool
}

func newRegistry() *registry {
	return &registry{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Register registers c and records its metrics' names.
func (r *registry) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	var names []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	for _, n := range names {
		r.names[n] = true
	}
	r.mu.Unlock()
	return nil
}

// MustRegister registers cs and panics on an error, like the registry's.
func (r *registry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Names returns the names of the registered metrics.
func (r *registry) Names() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]bool, len(r.names))
	for n := range r.names {
		out[n] = true
	}
	return out
}
