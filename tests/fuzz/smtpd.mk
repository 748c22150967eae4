# Fuzz harnesses of the smtpd area: the session (command parser and whole
# transcripts) and the DATA reader with dot-unstuffing.
if ENABLE_FUZZERS
noinst_PROGRAMS += tests/fuzz/fuzz_smtpd_command tests/fuzz/fuzz_smtpd_data
tests_fuzz_fuzz_smtpd_command_SOURCES = tests/fuzz/fuzz_smtpd_command.c
tests_fuzz_fuzz_smtpd_command_LDADD = libtenantrelayd.a $(TR_LIBS)
tests_fuzz_fuzz_smtpd_command_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
tests_fuzz_fuzz_smtpd_data_SOURCES = tests/fuzz/fuzz_smtpd_data.c
tests_fuzz_fuzz_smtpd_data_LDADD = libtenantrelayd.a $(TR_LIBS)
tests_fuzz_fuzz_smtpd_data_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK_FLAGS)
endif
