package demo

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	mentions     *prometheus.CounterVec
	checkIns     prometheus.Counter
	pacingResets prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		mentions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_demo_mentions_total",
			Help: "Mentions the demo generator produced, by intended intent and kind (new, follow_up, edit).",
		}, []string{"intent", "kind"}),
		checkIns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_demo_checkins_total",
			Help: "Check-ins the demo generator produced.",
		}),
		pacingResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_demo_pacing_resets_total",
			Help: "Times the demo feed fell more than a second behind its schedule (a slow consumer) and skipped ahead instead of bursting to catch up.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.mentions, m.checkIns, m.pacingResets)
	}
	return m
}
