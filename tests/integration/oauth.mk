# Integration tests of OAuth2 routes: a local HTTPS token endpoint and an
# XOAUTH2/OAUTHBEARER SMTP server (oauth_upstream.py), the real daemon and
# tenantrelayctl.
OAUTH_INTEGRATION_TESTS = \
	tests/integration/test_oauth_microsoft.sh \
	tests/integration/test_oauth_google.sh
TESTS += $(OAUTH_INTEGRATION_TESTS)
EXTRA_DIST += $(OAUTH_INTEGRATION_TESTS) tests/integration/oauth_upstream.py tests/integration/oauth_lib.sh
