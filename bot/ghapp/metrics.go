package ghapp

import (
	"github.com/countersign/countersign/bot/promreg"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	retries   *prometheus.CounterVec
	remaining *prometheus.GaugeVec
	cache     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_github_api_calls_total",
			Help: "GitHub REST calls made, each attempt counted, by method, route template and status (\"error\" when no response came).",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "countersign_github_api_call_duration_seconds",
			Help:    "Time to the response headers of one GitHub REST call, by method and route template.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{"method", "route"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_github_api_retries_total",
			Help: "GitHub REST calls retried or delayed, by reason (server_error, network, primary_rate_limit, secondary_rate_limit).",
		}, []string{"reason"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "countersign_github_rate_limit_remaining",
			Help: "X-RateLimit-Remaining of the latest GitHub response, by installation (0 for the app's own JWT calls) and resource.",
		}, []string{"installation", "resource"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "countersign_github_conditional_requests_total",
			Help: "Cacheable GitHub GETs by result: hit (304 Not Modified, served from the cache, not charged) or miss.",
		}, []string{"result"}),
	}
	if reg != nil {
		m.calls = promreg.Register(reg, m.calls)
		m.duration = promreg.Register(reg, m.duration)
		m.retries = promreg.Register(reg, m.retries)
		m.remaining = promreg.Register(reg, m.remaining)
		m.cache = promreg.Register(reg, m.cache)
	}
	return m
}

func (m *metrics) observe(method, route string, resp *http.Response, err error, d time.Duration, inst int64) {
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
		m.duration.WithLabelValues(method, route).Observe(d.Seconds())
		if v := resp.Header.Get("X-RateLimit-Remaining"); v != "" {
			if n, perr := strconv.ParseFloat(v, 64); perr == nil {
				res := resp.Header.Get("X-RateLimit-Resource")
				if res == "" {
					res = "core"
				}
				m.remaining.WithLabelValues(strconv.FormatInt(inst, 10), res).Set(n)
			}
		}
	}
	m.calls.WithLabelValues(method, route, status).Inc()
}
