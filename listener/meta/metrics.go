package meta

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec
	skipped    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_meta_deliveries_total",
			Help: "Webhook requests by result: ok, verified, bad_verify, unsigned, bad_signature, too_large, bad_payload, fetch_failed, append_failed.",
		}, []string{"result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_meta_changes_skipped_total",
			Help: "Changes of authenticated deliveries that gave no item, by reason (messaging, no_text, item_reaction, verb_hide, invalid, ...).",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.skipped)
	}
	return m
}
