package evaluator

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	evals    *prometheus.CounterVec
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		evals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_evaluations_total",
			Help: "Pull-request evaluations by outcome: the published conclusion, skipped (PR not open) or error (nothing could be published).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "countersign_evaluation_duration_seconds",
			Help:    "Time to evaluate a pull request and publish its check run.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}),
	}
	if reg != nil {
		m.evals = register(reg, m.evals)
		m.duration = register(reg, m.duration)
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

func (m *metrics) observe(outcome string, d time.Duration) {
	m.evals.WithLabelValues(outcome).Inc()
	m.duration.Observe(d.Seconds())
}
