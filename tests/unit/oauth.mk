# Unit tests of OAuth2 (cmocka): JWT signing, SASL messages, the 334
# challenge decoder, the token answer parser, error mapping.
if HAVE_CMOCKA
OAUTH_UNIT_TESTS = tests/unit/test_oauth
check_PROGRAMS += $(OAUTH_UNIT_TESTS)
TESTS += $(OAUTH_UNIT_TESTS)
tests_unit_test_oauth_SOURCES = tests/unit/test_oauth.c
tests_unit_test_oauth_LDADD = $(UNIT_LDADD)
tests_unit_test_oauth_CFLAGS = $(UNIT_CFLAGS)
endif
