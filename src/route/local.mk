libtenantrelay_a_SOURCES += \
	src/route/route.c \
	src/route/route_addrclass.c \
	src/route/route_check.c \
	src/route/route_oauth.c \
	src/route/route_parse.c \
	src/route/route_policy.c
