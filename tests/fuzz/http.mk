# Fuzz harness of the HTTP API: request path and PUT body validation
# (seed corpus in corpus/fuzz_http).
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_http
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_http_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
