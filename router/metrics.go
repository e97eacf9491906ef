package router

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	routed       *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	lag          prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		routed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_router_items_total",
			Help: "Items routed, by kind and outcome (ticket, dropped, other).",
		}, []string{"kind", "outcome"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_router_batch_seconds",
			Help:    "Time to route and hand over one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_router_lag_items",
			Help: "Items committed to the intake log and not yet routed.",
		}),
	}
	m.routed.WithLabelValues("mention", "ticket")
	m.routed.WithLabelValues("mention", "dropped")
	if reg != nil {
		reg.MustRegister(m.routed, m.batchSeconds, m.lag)
	}
	return m
}
