# Unit tests of the HTTP API area (cmocka): routes, PUT bodies, API
# tokens, the webhook signature, the metrics exposition.
if HAVE_CMOCKA
HTTP_UNIT_TESTS = tests/unit/test_http
check_PROGRAMS += $(HTTP_UNIT_TESTS)
TESTS += $(HTTP_UNIT_TESTS)
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_LDADD = $(UNIT_LDADD)
tests_unit_test_http_CFLAGS = $(UNIT_CFLAGS)
endif
