# Integration tests of the delivery area.
DELIVERY_INTEGRATION_TESTS = \
	tests/integration/test_delivery_routes.sh \
	tests/integration/test_delivery_failures.sh \
	tests/integration/test_delivery_recovery.sh
TESTS += $(DELIVERY_INTEGRATION_TESTS)
EXTRA_DIST += $(DELIVERY_INTEGRATION_TESTS)
