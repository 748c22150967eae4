# Fuzz harnesses of the smtpd area: inside "if ENABLE_FUZZERS", noinst_PROGRAMS += tests/fuzz/fuzz_NAME (see local.mk).
