libtenantrelay_a_SOURCES += \
	src/conf/conf_get.c \
	src/conf/conf_http.c \
	src/conf/conf_load.c
