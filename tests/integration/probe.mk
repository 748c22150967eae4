# Integration tests of the probe area (tenantrelayctl test, tenant set's
# connectivity test) against real upstreams.
PROBE_INTEGRATION_TESTS = \
	tests/integration/test_probe_codes.sh \
	tests/integration/test_probe_tenant_set.sh \
	tests/integration/test_route_policy.sh
TESTS += $(PROBE_INTEGRATION_TESTS)
EXTRA_DIST += $(PROBE_INTEGRATION_TESTS)
