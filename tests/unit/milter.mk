# Unit tests of the milter area (cmocka): the per-message decision and its
# edits, compared with delivery's rewrite.
if HAVE_CMOCKA
MILTER_UNIT_TESTS = tests/unit/test_milter
check_PROGRAMS += $(MILTER_UNIT_TESTS)
TESTS += $(MILTER_UNIT_TESTS)

tests_unit_test_milter_SOURCES = tests/unit/test_milter.c src/milter/milter_plan.c
tests_unit_test_milter_LDADD = $(UNIT_LDADD)
tests_unit_test_milter_CFLAGS = $(UNIT_CFLAGS)
endif
EXTRA_DIST += tests/unit/milter_fixture.h
