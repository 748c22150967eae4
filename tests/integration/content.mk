# Integration tests of issue 12's content items: header grammar, events,
# relaying long lines and 8-bit content safely, quoted local parts.
CONTENT_INTEGRATION_TESTS = \
	tests/integration/test_content_header_grammar.sh \
	tests/integration/test_content_events.sh \
	tests/integration/test_content_long_lines.sh \
	tests/integration/test_content_quoted_rcpt.sh
TESTS += $(CONTENT_INTEGRATION_TESTS)
EXTRA_DIST += $(CONTENT_INTEGRATION_TESTS)
