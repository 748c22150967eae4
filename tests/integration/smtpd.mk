# Integration tests of the smtpd area: the listener with real clients.
SMTPD_INTEGRATION_TESTS = \
	tests/integration/test_smtpd_session.sh \
	tests/integration/test_smtpd_smuggling.sh \
	tests/integration/test_smtpd_bounds.sh \
	tests/integration/test_smtpd_resolve.sh
TESTS += $(SMTPD_INTEGRATION_TESTS)
EXTRA_DIST += $(SMTPD_INTEGRATION_TESTS)
