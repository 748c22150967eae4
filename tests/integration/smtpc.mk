# Integration tests of the smtpc area (the SMTP client against real upstreams).
SMTPC_INTEGRATION_TESTS = \
	tests/integration/test_smtpc_send.sh \
	tests/integration/test_smtpc_tls.sh \
	tests/integration/test_smtpc_faults.sh
TESTS += $(SMTPC_INTEGRATION_TESTS)
EXTRA_DIST += $(SMTPC_INTEGRATION_TESTS)
