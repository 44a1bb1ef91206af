build-clang/lib/privs.o: lib/privs.c lib/privs.h lib/error.h \
  lib/cleanup.h lib/util.h

lib/privs.h:

lib/error.h:

lib/cleanup.h:

lib/util.h:
