libtenantrelay_a_SOURCES += \
	src/route/route.c
