# Integration tests of the delivery area: TESTS += tests/integration/test_*.sh, EXTRA_DIST likewise.
