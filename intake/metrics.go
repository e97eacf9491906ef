package intake

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	items         *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	commitSeconds prometheus.Histogram
	batchItems    prometheus.Histogram
	requests      *prometheus.CounterVec
	scopeRejected prometheus.Counter
	retained      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_intake_items_total",
			Help: "Items offered to the intake log, by outcome (accepted, edited, duplicate).",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_intake_rejected_total",
			Help: "Ingested items rejected before the log, by kind.",
		}, []string{"kind"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_intake_commit_seconds",
			Help:    "Time to commit one group of appends, fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchItems: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_intake_commit_items",
			Help:    "Items per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9),
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_intake_requests_total",
			Help: "Ingest HTTP requests, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		scopeRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_intake_scope_rejected_total",
			Help: "Ingested items rejected because the token is scoped to another source (also counted in vigie_intake_rejected_total).",
		}),
		retained: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_intake_retention_deleted_total",
			Help: "Raw items deleted by the retention policy.",
		}),
	}
	for _, o := range []Outcome{Accepted, Edited, Duplicate} {
		m.items.WithLabelValues(string(o))
	}
	for _, k := range []string{"mention", "checkin"} {
		m.rejected.WithLabelValues(k)
	}
	for _, e := range []string{"mentions", "checkins"} {
		m.requests.WithLabelValues(e, "202")
	}
	if reg != nil {
		reg.MustRegister(m.items, m.rejected, m.commitSeconds, m.batchItems, m.requests, m.scopeRejected, m.retained)
	}
	return m
}
