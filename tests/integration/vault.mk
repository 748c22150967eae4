# Integration tests of the vault area: TESTS += tests/integration/test_*.sh, EXTRA_DIST likewise.
