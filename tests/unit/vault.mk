# Unit tests of the vault area (cmocka); add to UNIT_TESTS-style lists inside 'if HAVE_CMOCKA'.
