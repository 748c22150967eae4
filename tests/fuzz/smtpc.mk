# Fuzz harnesses of the smtpc area: the header rewriter and the reply parser.
EXTRA_DIST += tests/fuzz/fuzz_rewrite.c tests/fuzz/fuzz_reply.c
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_rewrite tests/fuzz/fuzz_reply
tests_fuzz_fuzz_rewrite_SOURCES = tests/fuzz/fuzz_rewrite.c
tests_fuzz_fuzz_rewrite_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_rewrite_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_reply_SOURCES = tests/fuzz/fuzz_reply.c
tests_fuzz_fuzz_reply_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_reply_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
