noinst_HEADERS += \
	include/tenantrelay/clock.h \
	include/tenantrelay/conf.h \
	include/tenantrelay/conf_get.h \
	include/tenantrelay/ctl.h \
	include/tenantrelay/daemon.h \
	include/tenantrelay/dbuf.h \
	include/tenantrelay/errstr.h \
	include/tenantrelay/fdio.h \
	include/tenantrelay/hmap.h \
	include/tenantrelay/mailaddr.h \
	include/tenantrelay/msg.h \
	include/tenantrelay/mymalloc.h \
	include/tenantrelay/netaddr.h \
	include/tenantrelay/route.h \
	include/tenantrelay/route_parse.h \
	include/tenantrelay/route_policy.h \
	include/tenantrelay/server.h \
	include/tenantrelay/spool.h \
	include/tenantrelay/str.h \
	include/tenantrelay/tenant.h \
	include/tenantrelay/timefmt.h \
	include/tenantrelay/tmpfile.h \
	include/tenantrelay/utf8.h
