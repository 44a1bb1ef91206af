build-clang/lib/virtconf.o: lib/virtconf.c lib/virtconf.h lib/error.h \
  lib/cleanup.h lib/fileio.h lib/util.h

lib/virtconf.h:

lib/error.h:

lib/cleanup.h:

lib/fileio.h:

lib/util.h:
