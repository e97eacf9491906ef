package source

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are one network's connector metrics, labelled by source name so
// that two sources of the same network (two Mastodon instances) share them.
type Metrics struct {
	connected  *prometheus.GaugeVec
	items      *prometheus.CounterVec
	invalid    *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	errors     *prometheus.CounterVec
	lastError  *prometheus.GaugeVec
	lag        *prometheus.GaugeVec
}

// NewMetrics registers the metrics of network (a Prometheus name part such
// as "mastodon") on reg, or reuses them when another source of the same
// network registered them first. A nil reg registers nothing.
//
//	vigie_<network>_connected{source}                       1 while the stream is up
//	vigie_<network>_items_total{source,kind}                items emitted, by kind
//	vigie_<network>_invalid_total{source,reason}            payloads dropped as unreadable
//	vigie_<network>_reconnects_total{source}                connection attempts after the first
//	vigie_<network>_errors_total{source}                    stream and request errors
//	vigie_<network>_last_error_timestamp_seconds{source}    when the last error happened
//	vigie_<network>_lag_seconds{source}                     now minus the last item's created_at
func NewMetrics(reg prometheus.Registerer, network string) *Metrics {
	p := "vigie_" + network + "_"
	m := &Metrics{
		connected:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: p + "connected", Help: "1 while the source's stream connection is up, else 0."}, []string{"source"}),
		items:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "items_total", Help: "Items the source emitted, by kind (mention, tombstone)."}, []string{"source", "kind"}),
		invalid:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "invalid_total", Help: "Payloads the source could not read and dropped, by reason."}, []string{"source", "reason"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "reconnects_total", Help: "Connection attempts after the first one."}, []string{"source"}),
		errors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "errors_total", Help: "Stream and request errors."}, []string{"source"}),
		lastError:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: p + "last_error_timestamp_seconds", Help: "Unix time of the source's last error."}, []string{"source"}),
		lag:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: p + "lag_seconds", Help: "Time between the last item's creation on the network and its arrival."}, []string{"source"}),
	}
	if reg != nil {
		m.connected = register(reg, m.connected)
		m.items = register(reg, m.items)
		m.invalid = register(reg, m.invalid)
		m.reconnects = register(reg, m.reconnects)
		m.errors = register(reg, m.errors)
		m.lastError = register(reg, m.lastError)
		m.lag = register(reg, m.lag)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
