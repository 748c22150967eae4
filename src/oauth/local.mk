# OAuth2 access tokens for XOAUTH2 routes: HTTPS (libcurl), JWT assertions,
# the token answer and its errors, the daemon-wide cache.
noinst_HEADERS += include/tenantrelay/oauth.h
libtenantrelay_a_SOURCES += \
	src/oauth/oauth_cache.c \
	src/oauth/oauth_errors.c \
	src/oauth/oauth_global.c \
	src/oauth/oauth_grant.c \
	src/oauth/oauth_http.c \
	src/oauth/oauth_jwt.c \
	src/oauth/oauth_int.h
