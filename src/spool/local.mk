# The durable queue: queue files, ids, recovery.
libtenantrelay_a_SOURCES += \
	src/spool/spool_dir.c \
	src/spool/spool_env.c \
	src/spool/spool_msg.c \
	src/spool/spool_recycle.c
noinst_HEADERS += src/spool/spool_private.h
