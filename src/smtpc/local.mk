# The SMTP client: connect, TLS, EHLO, AUTH, envelope, data, replies.
noinst_HEADERS += include/tenantrelay/smtpc.h
