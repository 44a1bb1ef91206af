build-clang/lib/fileio.o: lib/fileio.c lib/fileio.h lib/error.h \
  lib/cleanup.h lib/fault.h lib/util.h

lib/fileio.h:

lib/error.h:

lib/cleanup.h:

lib/fault.h:

lib/util.h:
