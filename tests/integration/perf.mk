# Integration tests of fast delivery (session reuse, limits, isolation).
PERF_INTEGRATION_TESTS = \
	tests/integration/test_perf_reuse.sh \
	tests/integration/test_perf_rate.sh \
	tests/integration/test_perf_isolation.sh \
	tests/integration/test_perf_session_gone.sh \
	tests/integration/test_spool_reuse_integrity.sh
TESTS += $(PERF_INTEGRATION_TESTS)
EXTRA_DIST += $(PERF_INTEGRATION_TESTS)
# The benchmark ships with the sources (not run by make check).
EXTRA_DIST += bench/bench_env.sh bench/bench_relay.sh bench/bench_sessions.sh bench/README.md
