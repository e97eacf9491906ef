package watch

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	raised      *prometheus.CounterVec
	changes     *prometheus.CounterVec
	events      *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	evalLag     prometheus.Histogram
	evalSeconds prometheus.Histogram
	open        prometheus.Gauge
	publishErrs prometheus.Counter
	applyErrs   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_watch_alerts_raised_total", Help: "Alerts raised, by detector and severity.",
		}, []string{"detector", "severity"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_watch_alert_changes_total", Help: "Alert changes (raised, updated, escalated, reopened, acked, resolved), by detector; updates folded by the rate limit count as pushed=false.",
		}, []string{"detector", "change", "pushed"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_watch_mentions_total", Help: "Mentions read from the desk's log, by outcome (counted, late, edit, ignored_tag, too_old, bad).",
		}, []string{"outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_watch_webhook_deliveries_total", Help: "Webhook delivery attempts, by webhook and outcome (sent, retry, dead).",
		}, []string{"webhook", "outcome"}),
		evalLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_watch_evaluation_lag_seconds", Help: "Wall-clock time from a window's end to its evaluation.",
			Buckets: []float64{1, 5, 10, 15, 30, 60, 120, 300, 900, 3600},
		}),
		evalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_watch_evaluation_seconds", Help: "Time to run the detectors over one window.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_watch_open_alerts", Help: "Alerts open or acknowledged, not resolved.",
		}),
		applyErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_watch_apply_errors_total",
			Help: "Batches of desk events the watch failed to apply or commit (a full disk, a locked file); retried with back-off after reloading its state.",
		}),
		publishErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_watch_publish_errors_total", Help: "Failed attempts to publish an alert event on the desk's log (retried).",
		}),
	}
	reg.MustRegister(m.raised, m.changes, m.events, m.deliveries, m.evalLag, m.evalSeconds, m.open, m.publishErrs, m.applyErrs)
	return m
}
