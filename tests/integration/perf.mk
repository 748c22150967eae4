# Integration tests of fast delivery (session reuse, limits, isolation).
PERF_INTEGRATION_TESTS = \
	tests/integration/test_perf_reuse.sh \
	tests/integration/test_perf_rate.sh \
	tests/integration/test_perf_isolation.sh
TESTS += $(PERF_INTEGRATION_TESTS)
EXTRA_DIST += $(PERF_INTEGRATION_TESTS)
