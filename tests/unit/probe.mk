# Unit tests of the probe area (cmocka): failure code/hint mapping, report.
if HAVE_CMOCKA
PROBE_UNIT_TESTS = tests/unit/test_probe
check_PROGRAMS += $(PROBE_UNIT_TESTS)
TESTS += $(PROBE_UNIT_TESTS)
tests_unit_test_probe_SOURCES = tests/unit/test_probe.c
tests_unit_test_probe_LDADD = $(UNIT_LDADD)
tests_unit_test_probe_CFLAGS = $(UNIT_CFLAGS)
endif
