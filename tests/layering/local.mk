# House checks: the layering of modules (modules.txt, exceptions.txt), the
# size of source files (one concept per file: none over 800 lines), and no
# circle among the files of one module (file_cycles.sh, read from the
# built objects; file_cycle_exceptions.txt).
TESTS += tests/layering/check.sh tests/layering/file_size.sh tests/layering/file_cycles.sh
dist_check_SCRIPTS += tests/layering/check.sh tests/layering/file_size.sh tests/layering/file_cycles.sh
EXTRA_DIST += tests/layering/modules.txt tests/layering/exceptions.txt \
	tests/layering/file_cycle_exceptions.txt
