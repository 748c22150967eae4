# Integration tests of the HTTP API, metrics, webhooks and the reference
# page (SPEC §9), against the real daemon.
HTTP_INTEGRATION_TESTS = \
	tests/integration/test_http_api.sh \
	tests/integration/test_webhook.sh \
	tests/integration/test_http_ui.sh \
	tests/integration/test_http_tls.sh \
	tests/integration/test_http_race.sh \
	tests/integration/test_http_bounds.sh \
	tests/integration/test_http_store_pg.sh \
	tests/integration/test_http_oauth.sh \
	tests/integration/test_http_test_oauth.sh \
	tests/integration/test_http_queue_gauges.sh
TESTS += $(HTTP_INTEGRATION_TESTS)
EXTRA_DIST += $(HTTP_INTEGRATION_TESTS) tests/integration/webhook_receiver.py \
	tests/integration/ui_selenium.py

# The settings page test leaves its screenshots in the build tree for
# people to look at; `make clean` (and distcheck's distcleancheck) removes them.
clean-local: clean-http-ui-screenshots
clean-http-ui-screenshots:
	-rm -rf tests/integration/test_http_ui.out
.PHONY: clean-http-ui-screenshots
