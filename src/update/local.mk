# tenant set as a library (tenantrelayctl and the HTTP API): above the
# store and the probe, below their two callers.
libtenantrelay_a_SOURCES += src/update/tenant_update.c
noinst_HEADERS += include/tenantrelay/tenant_update.h
