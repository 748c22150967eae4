if HAVE_CMOCKA
UNIT_TESTS = tests/unit/test_conf tests/unit/test_netaddr tests/unit/test_mailaddr \
	tests/unit/test_dbuf tests/unit/test_route_policy tests/unit/test_common
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
UNIT_LDADD = $(TR_LIBS) $(CMOCKA_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_LDADD = $(UNIT_LDADD)
tests_unit_test_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_netaddr_SOURCES = tests/unit/test_netaddr.c
tests_unit_test_netaddr_LDADD = $(UNIT_LDADD)
tests_unit_test_netaddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mailaddr_SOURCES = tests/unit/test_mailaddr.c
tests_unit_test_mailaddr_LDADD = $(UNIT_LDADD)
tests_unit_test_mailaddr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dbuf_SOURCES = tests/unit/test_dbuf.c
tests_unit_test_dbuf_LDADD = $(UNIT_LDADD)
tests_unit_test_dbuf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_route_policy_SOURCES = tests/unit/test_route_policy.c
tests_unit_test_route_policy_LDADD = $(UNIT_LDADD)
tests_unit_test_route_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_SOURCES = tests/unit/test_common.c
tests_unit_test_common_LDADD = $(UNIT_LDADD)
tests_unit_test_common_CFLAGS = $(UNIT_CFLAGS)
endif
EXTRA_DIST += tests/unit/unit.h

# Each area lists its own unit tests in its own fragment.
include $(srcdir)/tests/unit/vault.mk
include $(srcdir)/tests/unit/smtpd.mk
include $(srcdir)/tests/unit/smtpc.mk
include $(srcdir)/tests/unit/delivery.mk
include $(srcdir)/tests/unit/probe.mk
include $(srcdir)/tests/unit/ctl.mk
include $(srcdir)/tests/unit/store.mk
include $(srcdir)/tests/unit/milter.mk
include $(srcdir)/tests/unit/http.mk
include $(srcdir)/tests/unit/rewrite.mk
include $(srcdir)/tests/unit/oauth.mk
include $(srcdir)/tests/unit/route.mk
