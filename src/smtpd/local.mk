# The SMTP listener and what runs behind it (only tenantrelayd links it).
noinst_LIBRARIES += libtenantrelayd.a
libtenantrelayd_a_SOURCES = \
	src/smtpd/smtpd_admit.c \
	src/smtpd/smtpd_data.c \
	src/smtpd/smtpd_fair.c \
	src/smtpd/smtpd_io.c \
	src/smtpd/smtpd_params.c \
	src/smtpd/smtpd_pool.c \
	src/smtpd/smtpd_server.c \
	src/smtpd/smtpd_session.c \
	src/smtpd/smtpd_snapshot.c \
	src/smtpd/smtpd_spool.c \
	src/smtpd/smtpd_tenant.c
noinst_HEADERS += include/tenantrelay/smtpd.h src/smtpd/smtpd_params.h src/smtpd/smtpd_pool.h \
	src/smtpd/smtpd_fair.h src/smtpd/smtpd_int.h
