# Unit tests of the smtpc area (cmocka); add to UNIT_TESTS-style lists inside 'if HAVE_CMOCKA'.
