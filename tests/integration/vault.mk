# Integration tests of the vault area: keyring, sealing, tenant store, audit.
VAULT_INTEGRATION_TESTS = \
	tests/integration/test_vault_keys.sh \
	tests/integration/test_vault_hygiene.sh \
	tests/integration/test_tenant_set.sh \
	tests/integration/test_tenant_concurrent.sh \
	tests/integration/test_tenant_crash.sh \
	tests/integration/test_audit_findings.sh
TESTS += $(VAULT_INTEGRATION_TESTS)
EXTRA_DIST += $(VAULT_INTEGRATION_TESTS)

# The store benchmark (not run by make check): bench/bench_store.sh [BUILD_DIR] [N].
EXTRA_DIST += bench/bench_store.sh bench/bench_store.c bench/gen_store.py
