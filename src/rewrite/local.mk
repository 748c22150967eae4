# Message rewriting: envelope sender, From:, Reply-To:, tenant headers, Received:.
noinst_HEADERS += include/tenantrelay/rewrite.h
libtenantrelay_a_SOURCES += \
	src/rewrite/rewrite_from.c \
	src/rewrite/rewrite_grammar.c \
	src/rewrite/rewrite_header.c \
	src/rewrite/rewrite_int.h
