# Integration tests of the delivery area.
DELIVERY_INTEGRATION_TESTS = \
	tests/integration/test_delivery_routes.sh \
	tests/integration/test_delivery_failures.sh \
	tests/integration/test_delivery_recovery.sh \
	tests/integration/test_delivery_tenant_churn.sh
TESTS += $(DELIVERY_INTEGRATION_TESTS)
EXTRA_DIST += $(DELIVERY_INTEGRATION_TESTS)
