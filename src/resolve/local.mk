# Tenant resolution (SPEC §2): a pure function shared by listener and milter.
libtenantrelay_a_SOURCES += src/resolve/resolve.c
noinst_HEADERS += include/tenantrelay/resolve.h
