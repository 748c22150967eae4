# The tenant store: records, lookups, atomic writes, change log.
libtenantrelay_a_SOURCES += \
	src/tenant/tenant_changelog.c \
	src/tenant/tenant_fast.c \
	src/tenant/tenant_int.h \
	src/tenant/tenant_manifest.c \
	src/tenant/tenant_path.c \
	src/tenant/tenant_record.c \
	src/tenant/tenant_store.c \
	src/tenant/tenant_write.c
noinst_HEADERS += include/tenantrelay/tenant_write.h
