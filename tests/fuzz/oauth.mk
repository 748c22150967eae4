# Fuzz harnesses of OAuth2: the token endpoint's answer parser and the
# decoder of a 334 challenge to XOAUTH2 / OAUTHBEARER.
EXTRA_DIST += tests/fuzz/fuzz_oauth_token.c tests/fuzz/fuzz_sasl_challenge.c
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_oauth_token tests/fuzz/fuzz_sasl_challenge
tests_fuzz_fuzz_oauth_token_SOURCES = tests/fuzz/fuzz_oauth_token.c
tests_fuzz_fuzz_oauth_token_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_oauth_token_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_sasl_challenge_SOURCES = tests/fuzz/fuzz_sasl_challenge.c
tests_fuzz_fuzz_sasl_challenge_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_sasl_challenge_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
