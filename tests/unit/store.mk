# Unit tests of the tenant-store interface (src/store/), and of the fast
# reader on OAuth2 records (the layout of a PostgreSQL node's snapshot).
if HAVE_CMOCKA
STORE_UNIT_TESTS = tests/unit/test_store tests/unit/test_tenant_fast_oauth
check_PROGRAMS += $(STORE_UNIT_TESTS)
TESTS += $(STORE_UNIT_TESTS)
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_LDADD = $(UNIT_LDADD)
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tenant_fast_oauth_SOURCES = tests/unit/test_tenant_fast_oauth.c
tests_unit_test_tenant_fast_oauth_LDADD = $(UNIT_LDADD)
tests_unit_test_tenant_fast_oauth_CFLAGS = $(UNIT_CFLAGS)
endif
