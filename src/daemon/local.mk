libtenantrelay_a_SOURCES += \
	src/daemon/daemon_listen.c \
	src/daemon/daemon_privs.c \
	src/daemon/daemon_signal.c

tenantrelayd_SOURCES = src/daemon/tenantrelayd.c
tenantrelayd_LDADD = libtenantrelayd.a $(TR_LIBS)
