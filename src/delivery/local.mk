# Delivery: scheduler, routes, outcomes, retries, events.
libtenantrelay_a_SOURCES += src/delivery/retry.c src/delivery/events.c
noinst_HEADERS += include/tenantrelay/retry.h include/tenantrelay/events.h

# The delivery engine runs only inside tenantrelayd.
libtenantrelayd_a_SOURCES += \
	src/delivery/delivery.c \
	src/delivery/delivery_attempt.c \
	src/delivery/delivery_control.c \
	src/delivery/delivery_index.c \
	src/delivery/delivery_route.c \
	src/delivery/delivery_sched.c
noinst_HEADERS += include/tenantrelay/delivery.h src/delivery/delivery_int.h
