package search

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events       *prometheus.CounterVec
	docs         *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	batchEvents  prometheus.Histogram
	lagEvents    prometheus.Gauge
	lagSeconds   prometheus.Gauge
	cursor       prometheus.Gauge
	errors       *prometheus.CounterVec
	lookups      prometheus.Counter
	queries      *prometheus.CounterVec
	querySeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_search_events_total",
			Help: "Desk events applied to the search index, by type.",
		}, []string{"type"}),
		docs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_search_documents_total",
			Help: "Documents written to the search index, by operation (indexed, deleted).",
		}, []string{"op"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_search_batch_seconds",
			Help:    "Time to write one batch to the index, lookups included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_search_batch_events",
			Help:    "Events per index batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		lagEvents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_search_lag_events",
			Help: "Events in the desk's log not yet in the index (needs the log's head; else events read but not yet written).",
		}),
		lagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_search_lag_seconds",
			Help: "Age of the last event written to the index while more are waiting; 0 when caught up.",
		}),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_search_cursor_seq",
			Help: "Sequence number of the last desk event in the index.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_search_errors_total",
			Help: "Search indexing errors, by kind (read: event log, decode: a bad event skipped, write: a batch retried, lookup: an index read retried).",
		}, []string{"kind"}),
		lookups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_search_lookup_documents_total",
			Help: "Documents read back from the index to apply a ticket change or an erasure.",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_search_queries_total",
			Help: "Search requests, by outcome (ok, bad_request, error).",
		}, []string{"outcome"}),
		querySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_search_query_seconds",
			Help:    "Time to answer one search request.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	for _, t := range []string{"mention.received", "mention.deleted", "ticket.created", "ticket.updated", "other"} {
		m.events.WithLabelValues(t)
	}
	for _, op := range []string{"indexed", "deleted"} {
		m.docs.WithLabelValues(op)
	}
	for _, k := range []string{"read", "decode", "write", "lookup"} {
		m.errors.WithLabelValues(k)
	}
	for _, o := range []string{"ok", "bad_request", "error"} {
		m.queries.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.events, m.docs, m.batchSeconds, m.batchEvents, m.lagEvents, m.lagSeconds,
			m.cursor, m.errors, m.lookups, m.queries, m.querySeconds)
	}
	return m
}
