# Unit tests of tenantrelayctl (cmocka): the route flags tenant set and test share.
if HAVE_CMOCKA
CTL_UNIT_TESTS = tests/unit/test_ctl_route_flags
check_PROGRAMS += $(CTL_UNIT_TESTS)
TESTS += $(CTL_UNIT_TESTS)
tests_unit_test_ctl_route_flags_SOURCES = tests/unit/test_ctl_route_flags.c src/ctl/ctl_route_flags.c
tests_unit_test_ctl_route_flags_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/ctl
tests_unit_test_ctl_route_flags_LDADD = $(UNIT_LDADD)
tests_unit_test_ctl_route_flags_CFLAGS = $(UNIT_CFLAGS)
endif
