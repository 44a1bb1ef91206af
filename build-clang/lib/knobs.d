build-clang/lib/knobs.o: lib/knobs.c lib/knobs.h lib/error.h \
  lib/cleanup.h lib/cpuset.h lib/fileio.h lib/root.h lib/util.h

lib/knobs.h:

lib/error.h:

lib/cleanup.h:

lib/cpuset.h:

lib/fileio.h:

lib/root.h:

lib/util.h:
