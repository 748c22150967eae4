# Delivery: scheduler, routes, outcomes, retries, events.
libtenantrelay_a_SOURCES += src/delivery/retry.c src/delivery/events.c
noinst_HEADERS += include/tenantrelay/retry.h include/tenantrelay/events.h
