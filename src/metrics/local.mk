# Counters and histograms (OpenMetrics) bumped by the listener and delivery.
libtenantrelay_a_SOURCES += src/metrics/metrics.c
noinst_HEADERS += include/tenantrelay/metrics.h
