# The SMTP listener and what runs behind it (only tenantrelayd links it).
noinst_LIBRARIES += libtenantrelayd.a
libtenantrelayd_a_SOURCES = \
	src/smtpd/server_stub.c
