# Unit tests of the smtpd area (cmocka); add to UNIT_TESTS-style lists inside 'if HAVE_CMOCKA'.
