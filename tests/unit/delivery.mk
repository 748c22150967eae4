# Unit tests of the delivery area (cmocka).
if HAVE_CMOCKA
DELIVERY_UNIT_TESTS = tests/unit/test_retry tests/unit/test_events tests/unit/test_utf8
check_PROGRAMS += $(DELIVERY_UNIT_TESTS)
TESTS += $(DELIVERY_UNIT_TESTS)
tests_unit_test_retry_SOURCES = tests/unit/test_retry.c
tests_unit_test_retry_LDADD = $(UNIT_LDADD)
tests_unit_test_retry_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_events_SOURCES = tests/unit/test_events.c
tests_unit_test_events_LDADD = $(UNIT_LDADD)
tests_unit_test_events_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_utf8_SOURCES = tests/unit/test_utf8.c
tests_unit_test_utf8_LDADD = $(UNIT_LDADD)
tests_unit_test_utf8_CFLAGS = $(UNIT_CFLAGS)
endif
