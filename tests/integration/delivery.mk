# Integration tests of the delivery area.
DELIVERY_INTEGRATION_TESTS = \
	tests/integration/test_delivery_routes.sh
TESTS += $(DELIVERY_INTEGRATION_TESTS)
EXTRA_DIST += $(DELIVERY_INTEGRATION_TESTS)
