# The delivery events: one JSON line per attempt in the events file, read by
# the platform, the webhook sender and tenantrelayctl.
libtenantrelay_a_SOURCES += src/events/events.c
noinst_HEADERS += include/tenantrelay/events.h
