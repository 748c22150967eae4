tenantrelay_milter_SOURCES = src/milter/tenantrelay_milter.c
tenantrelay_milter_LDADD = $(TR_LIBS) $(MILTER_LIBS)
