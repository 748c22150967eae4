# Fuzz harnesses of issue 12's content work: the quoted-printable encoder
# and re-fitter (differential against the decoder), the MIME walk, and the
# UTF-8 sanitizer used before JSON.
EXTRA_DIST += tests/fuzz/fuzz_qp.c tests/fuzz/fuzz_mime.c tests/fuzz/fuzz_utf8.c
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_qp tests/fuzz/fuzz_mime tests/fuzz/fuzz_utf8
tests_fuzz_fuzz_qp_SOURCES = tests/fuzz/fuzz_qp.c
tests_fuzz_fuzz_qp_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_qp_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz_mime.c
tests_fuzz_fuzz_mime_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_mime_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_utf8_SOURCES = tests/fuzz/fuzz_utf8.c
tests_fuzz_fuzz_utf8_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_utf8_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
