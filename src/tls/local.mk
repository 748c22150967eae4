# OpenSSL contexts: client (upstreams) and server (listener STARTTLS).
noinst_HEADERS += include/tenantrelay/tls.h include/tenantrelay/smtpd_tls.h
libtenantrelay_a_SOURCES += src/tls/tls_client.c src/tls/tls_server.c
