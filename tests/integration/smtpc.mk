# Integration tests of the smtpc area: TESTS += tests/integration/test_*.sh, EXTRA_DIST likewise.
