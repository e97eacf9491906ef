package sources

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	items     *prometheus.CounterVec
	connected *prometheus.GaugeVec
	errors    *prometheus.CounterVec
	restarts  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_source_items_total",
			Help: "Items a source handed over that are durable in the intake log.",
		}, []string{"source"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_source_connected",
			Help: "1 when the source is running and connected (a webhook source: enabled), else 0.",
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_source_errors_total",
			Help: "Errors a source met: failed runs, failed fetches, rejected deliveries.",
		}, []string{"source"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_source_restarts_total",
			Help: "Times the registry restarted a source after it failed.",
		}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.items, m.connected, m.errors, m.restarts)
	}
	return m
}
