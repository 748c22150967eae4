# OpenSSL contexts: client (upstreams) and server (listener STARTTLS).
noinst_HEADERS += include/tenantrelay/tls.h
