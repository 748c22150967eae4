# Test tools (built by make check, not installed).
check_PROGRAMS += tests/tools/smtpc_send
tests_tools_smtpc_send_SOURCES = tests/tools/smtpc_send.c
tests_tools_smtpc_send_LDADD = $(TR_LIBS)
