# OpenSSL contexts: client (upstreams), their cache per trust settings,
# and server (listener STARTTLS).
noinst_HEADERS += include/tenantrelay/tls.h
libtenantrelay_a_SOURCES += src/tls/tls_cache.c src/tls/tls_client.c \
	src/tls/tls_server.c
