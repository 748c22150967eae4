# The SMTP client: connect, TLS, EHLO, AUTH, envelope, data, replies.
noinst_HEADERS += include/tenantrelay/smtpc.h
libtenantrelay_a_SOURCES += \
	src/smtpc/smtpc_auth.c \
	src/smtpc/smtpc_dotstuff.c \
	src/smtpc/smtpc_int.h \
	src/smtpc/smtpc_proto.c \
	src/smtpc/smtpc_reply.c \
	src/smtpc/smtpc_sasl.c \
	src/smtpc/smtpc_session.c
