package feed

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	fetches *prometheus.CounterVec
	entries *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		fetches: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_feed_fetches_total",
			Help: "Feed fetches by result: ok, not_modified, throttled, http_error, network_error, parse_error.",
		}, []string{"result"})),
		entries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_feed_entries_total",
			Help: "Feed entries seen by outcome: new, edited, unchanged, filtered, invalid.",
		}, []string{"outcome"})),
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
