# Unit tests of the route area (cmocka): route_check(), the one set of
# rules of a valid route, and route_parse() placing its problems.
if HAVE_CMOCKA
ROUTE_UNIT_TESTS = tests/unit/test_route_check
check_PROGRAMS += $(ROUTE_UNIT_TESTS)
TESTS += $(ROUTE_UNIT_TESTS)
tests_unit_test_route_check_SOURCES = tests/unit/test_route_check.c
tests_unit_test_route_check_LDADD = $(UNIT_LDADD)
tests_unit_test_route_check_CFLAGS = $(UNIT_CFLAGS)
endif
