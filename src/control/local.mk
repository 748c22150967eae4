# The daemon's control socket (server and the client tenantrelayctl uses).
libtenantrelay_a_SOURCES += src/control/control.c
noinst_HEADERS += include/tenantrelay/control.h
