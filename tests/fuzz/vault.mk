# Fuzz harnesses of the vault area: the sealed-token decoder and the
# tenant-store parser (seed corpora in corpus/fuzz_token, corpus/fuzz_store).
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_token tests/fuzz/fuzz_store
tests_fuzz_fuzz_token_SOURCES = tests/fuzz/fuzz_token.c
tests_fuzz_fuzz_token_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_token_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_store_SOURCES = tests/fuzz/fuzz_store.c
tests_fuzz_fuzz_store_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_store_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
