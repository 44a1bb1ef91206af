build-clang/lib/argv.o: lib/argv.c lib/argv.h lib/error.h lib/cleanup.h \
  lib/util.h

lib/argv.h:

lib/error.h:

lib/cleanup.h:

lib/util.h:
