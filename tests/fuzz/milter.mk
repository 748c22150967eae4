# Fuzz harness of the milter area: the per-message decision, differential
# against delivery's rewrite.
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_milter_plan
tests_fuzz_fuzz_milter_plan_SOURCES = tests/fuzz/fuzz_milter_plan.c src/milter/milter_plan.c
tests_fuzz_fuzz_milter_plan_LDADD = $(TR_LIBS)
tests_fuzz_fuzz_milter_plan_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
