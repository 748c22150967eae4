# Unit tests of the smtpd area (cmocka): session state machine, MAIL/RCPT
# arguments, DATA reader, spool, tenant resolution.
if HAVE_CMOCKA
SMTPD_UNIT_TESTS = tests/unit/test_smtpd_data tests/unit/test_smtpd_session tests/unit/test_smtpd_params \
	tests/unit/test_spool tests/unit/test_resolve tests/unit/test_smtpd_fair
check_PROGRAMS += $(SMTPD_UNIT_TESTS)
TESTS += $(SMTPD_UNIT_TESTS)

tests_unit_test_smtpd_data_SOURCES = tests/unit/test_smtpd_data.c
tests_unit_test_smtpd_data_LDADD = libtenantrelayd.a $(UNIT_LDADD)
tests_unit_test_smtpd_data_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_smtpd_session_SOURCES = tests/unit/test_smtpd_session.c
tests_unit_test_smtpd_session_LDADD = libtenantrelayd.a $(UNIT_LDADD)
tests_unit_test_smtpd_session_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_smtpd_fair_SOURCES = tests/unit/test_smtpd_fair.c
tests_unit_test_smtpd_fair_LDADD = libtenantrelayd.a $(UNIT_LDADD)
tests_unit_test_smtpd_fair_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_smtpd_params_SOURCES = tests/unit/test_smtpd_params.c
tests_unit_test_smtpd_params_LDADD = libtenantrelayd.a $(UNIT_LDADD)
tests_unit_test_smtpd_params_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spool_SOURCES = tests/unit/test_spool.c
tests_unit_test_spool_LDADD = $(UNIT_LDADD)
tests_unit_test_spool_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_resolve_SOURCES = tests/unit/test_resolve.c
tests_unit_test_resolve_LDADD = $(UNIT_LDADD)
tests_unit_test_resolve_CFLAGS = $(UNIT_CFLAGS)
endif
EXTRA_DIST += tests/unit/smtpd_mem.h
