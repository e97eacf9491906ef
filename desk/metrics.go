package desk

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	events         prometheus.Counter
	applySeconds   prometheus.Histogram
	actions        *prometheus.CounterVec
	deliveries     *prometheus.CounterVec
	pipeline       prometheus.Histogram
	connections    prometheus.Gauge
	disconnects    *prometheus.CounterVec
	framesSent     prometheus.Counter
	broadcastQueue prometheus.Gauge
	slaChanges     *prometheus.CounterVec
	engineActions  *prometheus.CounterVec
	engineErrors   prometheus.Counter
	engineLag      prometheus.Gauge
	retained       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_desk_events_total",
			Help: "Events appended to the desk's event log.",
		}),
		applySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_desk_apply_seconds",
			Help:    "Time to commit one routed batch as tickets and events.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_desk_actions_total",
			Help: "Agents' actions on tickets, by change.",
		}, []string{"change"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_desk_reply_deliveries_total",
			Help: "Replies posted back to the networks, by source and outcome (sent, retry, failed).",
		}, []string{"source", "outcome"}),
		pipeline: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_pipeline_latency_seconds",
			Help:    "From a mention's arrival to its ticket's frame written to an agent's websocket.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5, 10},
		}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_hub_connections",
			Help: "Open websocket connections.",
		}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_hub_disconnects_total",
			Help: "Websocket connections closed, by reason (client, slow, write_error, ping_timeout, bad_message, shutdown).",
		}, []string{"reason"}),
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_hub_frames_sent_total",
			Help: "Frames written to websockets.",
		}),
		broadcastQueue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_hub_broadcast_queue",
			Help: "Broadcasts waiting for the hub goroutine.",
		}),
		slaChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_desk_sla_changes_total",
			Help: "Tickets whose SLA status or due times changed, by new status (none, active, at_risk, paused, hit, missed).",
		}, []string{"status"}),
		engineActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_desk_assignment_actions_total",
			Help: "Actions of the assignment engine carried out, by kind (assign, unassign, escalate, presence) and outcome (ok, failed).",
		}, []string{"kind", "outcome"}),
		engineErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_desk_assignment_errors_total",
			Help: "Failures of the assignment and SLA loop to read or write the desk (retried).",
		}),
		engineLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_desk_assignment_lag_events",
			Help: "Events of the desk's log the assignment and SLA loop has yet to read.",
		}),
	}
	for _, k := range []string{"assign", "unassign", "escalate", "presence"} {
		for _, o := range []string{"ok", "failed"} {
			m.engineActions.WithLabelValues(k, o)
		}
	}
	for _, c := range []Change{ChangeAssigned, ChangeReplied, ChangeNote, ChangeResolved} {
		m.actions.WithLabelValues(string(c))
	}
	for _, r := range []string{"client", "slow", "write_error", "ping_timeout", "bad_message", "shutdown"} {
		m.disconnects.WithLabelValues(r)
	}
	m.retained = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_desk_retention_expired_total",
		Help: "Rows whose raw content the retention policy expired, by kind (messages, events, tickets).",
	}, []string{"kind"})
	for _, k := range []string{"messages", "events", "tickets"} {
		m.retained.WithLabelValues(k)
	}
	if reg != nil {
		reg.MustRegister(m.retained)
		reg.MustRegister(m.events, m.applySeconds, m.actions, m.deliveries, m.pipeline, m.connections, m.disconnects, m.framesSent, m.broadcastQueue,
			m.slaChanges, m.engineActions, m.engineErrors, m.engineLag)
	}
	return m
}
