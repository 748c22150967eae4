# Relaying safely (SPEC §4): long lines and 8-bit content made fit for the
# upstream, the decoded content unchanged.
noinst_HEADERS += include/tenantrelay/mime.h
libtenantrelay_a_SOURCES += \
	src/mime/mime_convert.c \
	src/mime/mime_qp.c
