# The tenant-store interface (store.h) over a table of backend operations
# (store_backend.h): the file backend (glue to src/tenant/), the PostgreSQL
# backend (libpq), the daemons' live copy and its snapshot.
libtenantrelay_a_SOURCES += \
	src/store/store.c \
	src/store/store_backend.h \
	src/store/store_file.c \
	src/store/store_int.h \
	src/store/store_live.c \
	src/store/store_pg.c \
	src/store/store_pg_load.c \
	src/store/store_pg_schema.c \
	src/store/store_pg_write.c \
	src/store/store_snapshot.c \
	src/store/store_tenant.c \
	src/store/store_uri.c
noinst_HEADERS += include/tenantrelay/store.h include/tenantrelay/store_live.h
