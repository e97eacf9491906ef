package archive

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events       *prometheus.CounterVec
	skipped      *prometheus.CounterVec
	writeErrors  prometheus.Counter
	writeSeconds prometheus.Histogram
	batchEvents  prometheus.Histogram
	cursor       prometheus.Gauge
	lag          prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_archive_events_total",
			Help: "Events written to the archive, by type (a retried batch counts once).",
		}, []string{"type"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_archive_skipped_total",
			Help: "Events the archive passed over because it could not read them, by reason.",
		}, []string{"reason"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_archive_write_errors_total",
			Help: "Failed attempts to write a batch to the archive store (each is retried).",
		}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_archive_write_seconds",
			Help:    "Time to write one batch to the archive store, cursor included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_archive_batch_events",
			Help:    "Events per batch written to the archive store.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_archive_cursor",
			Help: "Sequence number of the last desk event archived.",
		}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_archive_lag_events",
			Help: "Events read from the desk but not yet archived.",
		}),
	}
	m.skipped.WithLabelValues("malformed")
	if reg != nil {
		reg.MustRegister(m.events, m.skipped, m.writeErrors, m.writeSeconds, m.batchEvents, m.cursor, m.lag)
	}
	return m
}
