# Unit tests of the smtpc area (cmocka): SMTP client, TLS layer, rewriter.
if HAVE_CMOCKA
SMTPC_UNIT_TESTS = tests/unit/test_smtpc tests/unit/test_smtpc_session tests/unit/test_tls \
	tests/unit/test_rewrite
check_PROGRAMS += $(SMTPC_UNIT_TESTS)
TESTS += $(SMTPC_UNIT_TESTS)
tests_unit_test_smtpc_SOURCES = tests/unit/test_smtpc.c
tests_unit_test_smtpc_LDADD = $(UNIT_LDADD)
tests_unit_test_smtpc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_smtpc_session_SOURCES = tests/unit/test_smtpc_session.c
tests_unit_test_smtpc_session_LDADD = $(UNIT_LDADD)
tests_unit_test_smtpc_session_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tls_SOURCES = tests/unit/test_tls.c
tests_unit_test_tls_LDADD = $(UNIT_LDADD)
tests_unit_test_tls_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rewrite_SOURCES = tests/unit/test_rewrite.c
tests_unit_test_rewrite_LDADD = $(UNIT_LDADD)
tests_unit_test_rewrite_CFLAGS = $(UNIT_CFLAGS)
endif
