# libFuzzer harnesses, built with ./configure CC=clang --enable-fuzzers and run
# by tests/fuzz/run.sh for a bounded time each (seed corpora in corpus/NAME).
FUZZER_LINK_FLAGS = -fsanitize=fuzzer
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/runs.conf tests/fuzz/corpus tests/fuzz/regressions

# Long random fuzzing (not part of the test command): make fuzz-long [FUZZ_SECONDS=600]
FUZZ_SECONDS ?= 600
fuzz-long:
	bash $(srcdir)/tests/fuzz/run.sh --long $(abs_top_builddir) $(FUZZ_SECONDS)
.PHONY: fuzz-long
if ENABLE_FUZZERS
noinst_PROGRAMS = tests/fuzz/fuzz_cidr
tests_fuzz_fuzz_cidr_SOURCES = tests/fuzz/fuzz_cidr.c
tests_fuzz_fuzz_cidr_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_cidr_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif

include $(srcdir)/tests/fuzz/vault.mk
include $(srcdir)/tests/fuzz/smtpd.mk
include $(srcdir)/tests/fuzz/smtpc.mk
include $(srcdir)/tests/fuzz/milter.mk
include $(srcdir)/tests/fuzz/http.mk
include $(srcdir)/tests/fuzz/route.mk
include $(srcdir)/tests/fuzz/mime.mk
include $(srcdir)/tests/fuzz/oauth.mk
