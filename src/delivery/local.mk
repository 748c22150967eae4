# Delivery: scheduler, routes and workers, limits (rate, breaker),
# attempts, outcomes (events and the retry
# policy are modules of their own: src/events, src/retry).
# The delivery engine runs only inside tenantrelayd.
libtenantrelayd_a_SOURCES += \
	src/delivery/delivery.c \
	src/delivery/delivery_attempt.c \
	src/delivery/delivery_control.c \
	src/delivery/delivery_flush.c \
	src/delivery/delivery_gen.c \
	src/delivery/delivery_index.c \
	src/delivery/delivery_limits.c \
	src/delivery/delivery_outcome.c \
	src/delivery/delivery_queue.c \
	src/delivery/delivery_route.c \
	src/delivery/delivery_sched.c \
	src/delivery/delivery_stats.c \
	src/delivery/delivery_worker.c
noinst_HEADERS += include/tenantrelay/delivery.h src/delivery/delivery_int.h
