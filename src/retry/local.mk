# The retry policy: the schedule's next attempt and the maximum age.
libtenantrelay_a_SOURCES += src/retry/retry.c
noinst_HEADERS += include/tenantrelay/retry.h
