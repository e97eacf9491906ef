package mastodon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigie/vigie/listener/source"
)

// newMetrics registers the vigie_mastodon_* metrics (see source.NewMetrics).
func newMetrics(reg prometheus.Registerer) *source.Metrics {
	return source.NewMetrics(reg, "mastodon")
}
