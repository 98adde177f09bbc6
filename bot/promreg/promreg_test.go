package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesTheExistingCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "countersign_test_total", Help: "test"}
	first := Register(reg, prometheus.NewCounter(opts))
	second := Register(reg, prometheus.NewCounter(opts))
	second.Inc()
	if first != second {
		t.Fatal("the second registration did not return the collector already registered")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a clashing registration (same name, other labels) did not panic")
		}
	}()
	Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
}
