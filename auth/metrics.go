package auth

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	logins      *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	denied      *prometheus.CounterVec
	sessions    prometheus.Gauge
	hashSeconds prometheus.Histogram
	// auditEntries is the Seq of the newest audit entry; auditErrors counts
	// entries Audit failed to write.
	auditEntries prometheus.Gauge
	auditErrors  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_auth_logins_total",
			Help: "Login attempts, by outcome (success, failure, throttled, busy, error).",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_auth_throttled_total",
			Help: "Login attempts refused by the failure throttle, by the scope that refused (pair, user, ip).",
		}, []string{"scope"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_auth_denied_total",
			Help: "Requests refused by the auth middleware, by reason (missing, invalid, csrf). Permission refusals (Require) are not counted here.",
		}, []string{"reason"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_auth_active_sessions",
			Help: "Browser sessions not yet expired (exact after each prune, approximate between).",
		}),
		hashSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_auth_password_hash_seconds",
			Help:    "Time to compute one argon2id password hash, not counting the wait for a slot.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 10),
		}),
		auditEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_auth_audit_entries",
			Help: "Entries in the audit log (the sequence number of the newest).",
		}),
		auditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_auth_audit_errors_total",
			Help: "Audit entries that could not be written (the action they record may have happened).",
		}),
	}
	for _, o := range []string{"success", "failure", "throttled", "busy", "error"} {
		m.logins.WithLabelValues(o)
	}
	for _, s := range []string{"pair", "user", "ip"} {
		m.throttled.WithLabelValues(s)
	}
	for _, r := range []string{"missing", "invalid", "csrf"} {
		m.denied.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.logins, m.throttled, m.denied, m.sessions, m.hashSeconds, m.auditEntries, m.auditErrors)
	}
	return m
}

// startHash starts timing one hash; call the result when it is done.
func (m *metrics) startHash() func() {
	start := time.Now()
	return func() { m.hashSeconds.Observe(time.Since(start).Seconds()) }
}
