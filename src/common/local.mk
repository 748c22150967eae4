libtenantrelay_a_SOURCES += \
	src/common/clock.c \
	src/common/dbuf.c \
	src/common/errstr.c \
	src/common/fdio.c \
	src/common/hmap.c \
	src/common/mailaddr.c \
	src/common/msg.c \
	src/common/mymalloc.c \
	src/common/netaddr.c \
	src/common/timefmt.c \
	src/common/tmpfile.c \
	src/common/utf8.c
