# The HTTP API of tenantrelayd (libmicrohttpd): server, route table and
# body parsing, /v1 handlers, API tokens (shared with tenantrelayctl).
libtenantrelay_a_SOURCES += \
	src/http/http_api.c \
	src/http/http_body.c \
	src/http/http_int.h \
	src/http/http_oauth.c \
	src/http/http_parse.c \
	src/http/http_probe.c \
	src/http/http_reply.c \
	src/http/http_server.c \
	src/http/http_stream.c \
	src/http/http_token.c \
	src/http/http_ui.c
noinst_HEADERS += include/tenantrelay/http.h include/tenantrelay/http_token.h
