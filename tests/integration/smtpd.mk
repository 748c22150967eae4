# Integration tests of the smtpd area: the listener with real clients.
SMTPD_INTEGRATION_TESTS = \
	tests/integration/test_smtpd_session.sh \
	tests/integration/test_smtpd_smuggling.sh \
	tests/integration/test_smtpd_bounds.sh \
	tests/integration/test_smtpd_fair.sh \
	tests/integration/test_smtpd_resolve.sh \
	tests/integration/test_smtpd_relay.sh \
	tests/integration/test_spool_crash.sh \
	tests/integration/test_spool_full.sh \
	tests/integration/test_smtpd_starttls.sh
TESTS += $(SMTPD_INTEGRATION_TESTS)
EXTRA_DIST += $(SMTPD_INTEGRATION_TESTS)
