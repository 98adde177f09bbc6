package evaluator

import (
	"github.com/countersign/countersign/bot/promreg"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the evaluator; evaluation counts and durations by result are
// the server's (countersign_evaluation_duration_seconds).
type metrics struct {
	verdicts *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_verdicts_total",
			Help: "Evaluations by outcome: the conclusion published (success, action_required, failure), skipped (PR not open), superseded (a newer evaluation had already published) or error (nothing could be published).",
		}, []string{"outcome"}),
	}
	if reg != nil {
		m.verdicts = promreg.Register(reg, m.verdicts)
	}
	return m
}

func (m *metrics) observe(outcome string) { m.verdicts.WithLabelValues(outcome).Inc() }
