tenantrelayctl_SOURCES = src/ctl/tenantrelayctl.c
tenantrelayctl_LDADD = $(TR_LIBS)
