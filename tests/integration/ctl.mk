# Integration tests of tenantrelayctl itself (beyond the areas' own):
# tenant set's probe without the lock, and what it saves after it.
CTL_INTEGRATION_TESTS = \
	tests/integration/test_tenant_set_race.sh \
	tests/integration/test_ctl_argv.sh
TESTS += $(CTL_INTEGRATION_TESTS)
EXTRA_DIST += $(CTL_INTEGRATION_TESTS)
