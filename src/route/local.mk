libtenantrelay_a_SOURCES += \
	src/route/route.c \
	src/route/route_oauth.c
