# Integration tests of the milter area: the real milter under miltertest,
# and inside a real private Postfix and a real private Sendmail (Debian's
# packages unpacked, not installed), each relaying to tenantrelayd.
MILTER_INTEGRATION_TESTS = \
	tests/integration/test_milter_miltertest.sh \
	tests/integration/test_milter_postfix.sh \
	tests/integration/test_milter_sendmail.sh
TESTS += $(MILTER_INTEGRATION_TESTS)
EXTRA_DIST += $(MILTER_INTEGRATION_TESTS) tests/integration/milter_cases.lua
