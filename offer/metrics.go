package offer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	points       *prometheus.CounterVec
	matched      prometheus.Counter
	exits        prometheus.Counter
	decisions    *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
	redeemed     prometheus.Counter
	lagSeconds   prometheus.Histogram
	lagRecords   prometheus.Gauge
	batchSeconds prometheus.Histogram
	fences       prometheus.Gauge
	campaigns    prometheus.Gauge
	queued       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		points: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_offer_points_total",
			Help: "Points read from the intake log, by kind (checkin, mention with coordinates, checkin_edit ignored).",
		}, []string{"kind"}),
		matched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_offer_points_matched_total",
			Help: "Points inside at least one fence (rate() gives check-ins matched per second).",
		}),
		exits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_offer_exits_total",
			Help: "Visits ended by a point outside the fence, a deleted fence or the visit timeout.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_offer_decisions_total",
			Help: "Decisions, by outcome (sent, skipped) and reason (empty when sent).",
		}, []string{"outcome", "reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_offer_deliveries_total",
			Help: "Webhook calls to the gateway, by outcome (delivered, retry, dead, cancelled).",
		}, []string{"outcome"}),
		redeemed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_offer_redeemed_total",
			Help: "Offers the gateway reported redeemed.",
		}),
		lagSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_offer_match_lag_seconds",
			Help:    "From an intake record's commit to its decisions' commit.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		lagRecords: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_offer_lag_records",
			Help: "Intake records not yet decided.",
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_offer_batch_seconds",
			Help:    "Time to match, decide and commit one batch of intake records.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		fences: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_offer_fences",
			Help: "Fences indexed.",
		}),
		campaigns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_offer_campaigns_active",
			Help: "Campaigns not paused.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_offer_deliveries_queued",
			Help: "Offers waiting for a webhook call, as of the last delivery pass.",
		}),
	}
	for _, o := range []string{"delivered", "retry", "dead", "cancelled"} {
		m.deliveries.WithLabelValues(o)
	}
	m.decisions.WithLabelValues(string(StatusSent), "")
	for _, r := range Reasons {
		m.decisions.WithLabelValues(string(StatusSkipped), string(r))
	}
	reg.MustRegister(m.points, m.matched, m.exits, m.decisions, m.deliveries, m.redeemed,
		m.lagSeconds, m.lagRecords, m.batchSeconds, m.fences, m.campaigns, m.queued)
	return m
}
