# House checks: the layering of modules (modules.txt, exceptions.txt) and
# the size of source files (one concept per file: none over 800 lines).
TESTS += tests/layering/check.sh tests/layering/file_size.sh
dist_check_SCRIPTS += tests/layering/check.sh tests/layering/file_size.sh
EXTRA_DIST += tests/layering/modules.txt tests/layering/exceptions.txt
