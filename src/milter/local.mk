# tenantrelay-milter (SPEC §7): the libmilter filter.  The decision per
# message (milter_plan.c) is pure and shared with its unit test.
noinst_HEADERS += include/tenantrelay/milter.h src/milter/milter_int.h
tenantrelay_milter_SOURCES = \
	src/milter/milter_main.c \
	src/milter/milter_snap.c \
	src/milter/milter_callbacks.c \
	src/milter/milter_plan.c
tenantrelay_milter_LDADD = $(TR_LIBS) $(MILTER_LIBS)
