# Unit tests of the tenant-store interface (src/store/).
if HAVE_CMOCKA
STORE_UNIT_TESTS = tests/unit/test_store
check_PROGRAMS += $(STORE_UNIT_TESTS)
TESTS += $(STORE_UNIT_TESTS)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_LDADD = $(UNIT_LDADD)
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS)
endif
