# Unit tests of the delivery area (cmocka); add to UNIT_TESTS-style lists inside 'if HAVE_CMOCKA'.
