# Unit tests of the vault area: the tenant store and the vault (cmocka).
if HAVE_CMOCKA
VAULT_UNIT_TESTS = tests/unit/test_tenant tests/unit/test_vault
check_PROGRAMS += $(VAULT_UNIT_TESTS)
TESTS += $(VAULT_UNIT_TESTS)
tests_unit_test_tenant_SOURCES = tests/unit/test_tenant.c
tests_unit_test_tenant_LDADD = $(UNIT_LDADD)
tests_unit_test_tenant_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vault_SOURCES = tests/unit/test_vault.c
tests_unit_test_vault_LDADD = $(UNIT_LDADD)
tests_unit_test_vault_CFLAGS = $(UNIT_CFLAGS)
endif
