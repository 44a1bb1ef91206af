build-clang/lib/cpuset.o: lib/cpuset.c lib/cpuset.h lib/error.h \
  lib/cleanup.h lib/util.h

lib/cpuset.h:

lib/error.h:

lib/cleanup.h:

lib/util.h:
