package crm

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events       *prometheus.CounterVec
	batchSeconds prometheus.Histogram
	surveys      *prometheus.CounterVec
	exports      *prometheus.CounterVec
	links        *prometheus.CounterVec
	publishErrs  prometheus.Counter
	applyErrs    prometheus.Counter

	campaigns         *prometheus.CounterVec
	campaignMessages  *prometheus.CounterVec
	campaignThrottled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_events_total",
			Help: "Desk events read, by kind (mention, ticket, offer, csat, erasure, deletion, other, bad).",
		}, []string{"kind"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_crm_batch_seconds",
			Help:    "Time to apply and commit one batch of desk events.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}),
		surveys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_surveys_total",
			Help: "CSAT surveys, by outcome (offered, rated, expired, used, bad_token; send_sent, send_failed, send_expired for the survey messages).",
		}, []string{"outcome"}),
		exports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_exports_total",
			Help: "Segment exports, by kind (csv, webhook) and outcome (ok, failed).",
		}, []string{"kind", "outcome"}),
		links: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_identity_changes_total",
			Help: "Identity changes made by people, by action (link, unlink, crm_id, import, consent).",
		}, []string{"action"}),
		publishErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_crm_publish_errors_total",
			Help: "Failed attempts to publish CSAT events to the desk (retried).",
		}),
		applyErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_crm_apply_errors_total",
			Help: "Batches of desk events the CRM failed to apply or commit (a full disk, a locked file); retried with back-off.",
		}),
		campaigns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_campaign_transitions_total",
			Help: "Campaign status changes, by new status (scheduled, running, paused, done, cancelled).",
		}, []string{"status"}),
		campaignMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_campaign_messages_total",
			Help: "Campaign messages, by network and outcome (sent, failed, retry, skipped, replied).",
		}, []string{"source", "outcome"}),
		campaignThrottled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_crm_campaign_throttled_total",
			Help: "Campaign sends put off because the network's rate limit bucket was empty, by network.",
		}, []string{"source"}),
	}
	reg.MustRegister(m.events, m.batchSeconds, m.surveys, m.exports, m.links, m.publishErrs, m.applyErrs, m.campaigns, m.campaignMessages, m.campaignThrottled)
	return m
}
