# Integration tests of the smtpd area: TESTS += tests/integration/test_*.sh, EXTRA_DIST likewise.
