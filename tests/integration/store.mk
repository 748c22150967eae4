# Integration tests of the tenant-store backends: a real PostgreSQL 15 that
# each test starts itself (never the system cluster), shared by two nodes;
# the same table of store cases run against the file store and PostgreSQL.
STORE_INTEGRATION_TESTS = \
	tests/integration/test_store_pg.sh \
	tests/integration/test_store_backends.sh \
	tests/integration/test_store_pg_oauth.sh
TESTS += $(STORE_INTEGRATION_TESTS)
EXTRA_DIST += $(STORE_INTEGRATION_TESTS) tests/integration/pg_nodes.sh
