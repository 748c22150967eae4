# tenant set as a library (tenantrelayctl and the HTTP API): above the
# store and the probe, below their two callers.
libtenantrelay_a_SOURCES += src/update/tenant_update.c src/update/tenant_update_oauth.c \
	src/update/update_int.h
noinst_HEADERS += include/tenantrelay/tenant_update.h
