# The connectivity probe (tenantrelayctl test, tenant set): staged SMTP
# dialogue, stable failure codes and hints, its report.
noinst_HEADERS += include/tenantrelay/probe.h
libtenantrelay_a_SOURCES += \
	src/probe/probe_classify.c \
	src/probe/probe_report.c \
	src/probe/probe_run.c
