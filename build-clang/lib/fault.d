build-clang/lib/fault.o: lib/fault.c lib/fault.h lib/util.h lib/error.h \
  lib/cleanup.h

lib/fault.h:

lib/util.h:

lib/error.h:

lib/cleanup.h:
