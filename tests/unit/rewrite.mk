# Unit tests of the rewrite area (cmocka): the one header grammar, read by
# the listener, the rewriter and the milter from one table; relaying long
# lines and 8-bit content safely (src/mime).
if HAVE_CMOCKA
REWRITE_UNIT_TESTS = tests/unit/test_header_grammar tests/unit/test_mime
check_PROGRAMS += $(REWRITE_UNIT_TESTS)
TESTS += $(REWRITE_UNIT_TESTS)

tests_unit_test_header_grammar_SOURCES = tests/unit/test_header_grammar.c src/milter/milter_plan.c
tests_unit_test_header_grammar_LDADD = libtenantrelayd.a $(UNIT_LDADD)
tests_unit_test_header_grammar_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mime_SOURCES = tests/unit/test_mime.c
tests_unit_test_mime_LDADD = $(UNIT_LDADD)
tests_unit_test_mime_CFLAGS = $(UNIT_CFLAGS)
endif
