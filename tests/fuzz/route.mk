# Fuzz harness of the route area: resolved-address classification and the
# tenant_route_policy lists (seed corpus in corpus/fuzz_route_policy).
EXTRA_DIST += tests/fuzz/fuzz_route_policy.c
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_route_policy
tests_fuzz_fuzz_route_policy_SOURCES = tests/fuzz/fuzz_route_policy.c
tests_fuzz_fuzz_route_policy_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_route_policy_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
