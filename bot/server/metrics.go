package server

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// Metric names, as documented in docs/configuration.md.
const (
	metricDeliveries    = "countersign_webhook_deliveries_total"
	metricEvalDuration  = "countersign_evaluation_duration_seconds"
	metricQueueDepth    = "countersign_queue_depth"
	metricQueueCapacity = "countersign_queue_capacity"
	metricInFlight      = "countersign_evaluations_in_flight"
	metricRunning       = "countersign_work_running"
	metricRetries       = "countersign_work_retries_total"
	metricFailures      = "countersign_work_failures_total"
	metricCoalesced     = "countersign_work_coalesced_total"
	metricParked        = "countersign_work_parked_total"
	metricRejected      = "countersign_queue_rejected_total"
	metricFanouts       = "countersign_fanouts_total"
	metricDedupSize     = "countersign_delivery_dedup_entries"
	metricReady         = "countersign_ready"
)

// Outcomes of a delivery, the "outcome" label of countersign_webhook_deliveries_total.
const (
	outcomeQueued       = "queued"
	outcomeIgnored      = "ignored"
	outcomeDuplicate    = "duplicate"
	outcomePing         = "ping"
	outcomeUnauthorized = "unauthorized"
	outcomeBadRequest   = "bad_request"
	outcomeTooLarge     = "too_large"
	outcomeQueueFull    = "queue_full"
	outcomeDraining     = "draining"
	outcomeUnavailable  = "unavailable"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	deliveries    *prometheus.CounterVec
	evalDuration  *prometheus.HistogramVec
	queueDepth    prometheus.Gauge
	running       prometheus.Gauge
	queueCapacity prometheus.Gauge
	inFlight      prometheus.Gauge
	retries       *prometheus.CounterVec
	failures      *prometheus.CounterVec
	parked        prometheus.Counter
	coalesced     prometheus.Counter
	rejected      prometheus.Counter
	fanouts       *prometheus.CounterVec
	dedupSize     prometheus.Gauge
	ready         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricDeliveries,
			Help: "Webhook deliveries received, by event and outcome.",
		}, []string{"event", "outcome"}),
		evalDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricEvalDuration,
			Help:    "Time one Evaluate call took (gathering facts, judging, publishing the check run), by result.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120},
		}, []string{"result"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricQueueDepth,
			Help: "Pull requests and fan-outs waiting to run (queued, waiting for a retry, or due to run again after the current run).",
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricRunning,
			Help: "Work of any kind (evaluations, fan-outs, commands) running now; with countersign_queue_depth at 0 too, the server is idle.",
		}),
		queueCapacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricQueueCapacity,
			Help: "Distinct pull requests and fan-outs the queue holds before deliveries are answered 503.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricInFlight,
			Help: "Evaluate calls running now.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRetries,
			Help: "Failed work scheduled to run again after a backoff, by kind (evaluate, fanout).",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricFailures,
			Help: "Work that failed on its last attempt and was given up, by kind (evaluate, fanout).",
		}, []string{"kind"}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricParked,
			Help: "Work given up and kept for the next sweep to queue again (a change of standing, a merge group, a landing, a deployment gate, an evaluation).",
		}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricCoalesced,
			Help: "Work merged into work already pending for the same pull request or repository.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricRejected,
			Help: "Deliveries refused with 503 because the queue was full.",
		}),
		fanouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricFanouts,
			Help: "Listings of an installation's repositories or a repository's open pull requests, by result.",
		}, []string{"result"}),
		dedupSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricDedupSize,
			Help: "Delivery ids remembered to acknowledge redeliveries without processing them again.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricReady,
			Help: "1 while the server accepts deliveries, 0 while starting or draining.",
		}),
	}
	for _, c := range []prometheus.Collector{
		m.deliveries, m.evalDuration, m.queueDepth, m.running, m.queueCapacity, m.inFlight,
		m.retries, m.failures, m.parked, m.coalesced, m.rejected, m.fanouts, m.dedupSize, m.ready,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Process and Go runtime metrics; another component may have registered them.
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	for _, k := range []string{kindEvaluate, kindFanout} {
		m.retries.WithLabelValues(k)
		m.failures.WithLabelValues(k)
	}
	return m, nil
}

// IdleGauges are the gauges whose zero means the server is idle, in the
// order they must be read: the queue sets the running work before the
// depth, so a task taken between the two reads is still seen running.
var IdleGauges = []string{metricQueueDepth, metricRunning}

// IdleIn reports whether a server is idle — nothing queued, waiting to
// retry, due to run again, or running — from its gauges read by name (in
// this process, or scraped from another's /metrics). It is the one
// definition of idle; a gauge that cannot be read means not idle.
func IdleIn(gauge func(name string) (float64, error)) bool {
	for _, name := range IdleGauges {
		if v, err := gauge(name); err != nil || v != 0 {
			return false
		}
	}
	return true
}

// Idle reports whether this server is idle, as IdleIn defines it, and its
// work queue holds nothing: with Redis the queue is shared and its waiting
// tasks are not in this process's gauges (a queue that cannot be read is
// not idle).
func (s *Server) Idle() bool {
	return s.idleGauges() && s.q.depth() == 0
}

// idleGauges reads this process's idle gauges, as IdleIn defines them.
func (s *Server) idleGauges() bool {
	return IdleIn(func(name string) (float64, error) {
		var g prometheus.Gauge
		switch name {
		case metricQueueDepth:
			g = s.m.queueDepth
		case metricRunning:
			g = s.m.running
		default:
			return 0, fmt.Errorf("no gauge %s", name)
		}
		var m dto.Metric
		if err := g.Write(&m); err != nil {
			return 0, err
		}
		return m.GetGauge().GetValue(), nil
	})
}
