package checkin

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	deliveries *prometheus.CounterVec
	skipped    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		deliveries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_checkin_deliveries_total",
			Help: "Check-in webhook requests by kind (foursquare, radar, location) and result (ok, unsigned, bad_signature, expired, too_large, bad_payload, no_consent, append_failed).",
		}, []string{"kind", "result"})),
		skipped: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_checkin_events_skipped_total",
			Help: "Authenticated events that gave no check-in, by kind and reason.",
		}, []string{"kind", "reason"})),
	}
}

// register registers c, or returns the collector already registered under
// the same description (several handlers of this package on one registry).
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
