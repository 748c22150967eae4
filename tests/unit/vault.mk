# Unit tests of the vault area: the tenant store and the vault (cmocka).
if HAVE_CMOCKA
VAULT_UNIT_TESTS = tests/unit/test_tenant
check_PROGRAMS += $(VAULT_UNIT_TESTS)
TESTS += $(VAULT_UNIT_TESTS)
tests_unit_test_tenant_SOURCES = tests/unit/test_tenant.c
tests_unit_test_tenant_LDADD = $(UNIT_LDADD)
tests_unit_test_tenant_CFLAGS = $(UNIT_CFLAGS)
endif
