package evaluator

import (
	"errors"

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
		m.verdicts = register(reg, m.verdicts)
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

func (m *metrics) observe(outcome string) { m.verdicts.WithLabelValues(outcome).Inc() }
