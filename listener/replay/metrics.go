package replay

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	lines *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_replay_lines_total",
			Help: "Non-blank lines of replay files read, by outcome (sent, bad).",
		}, []string{"outcome"}),
	}
	m.lines.WithLabelValues("sent")
	m.lines.WithLabelValues("bad")
	if reg != nil {
		reg.MustRegister(m.lines)
	}
	return m
}
