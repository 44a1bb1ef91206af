build-clang/lib/error.o: lib/error.c lib/error.h lib/cleanup.h

lib/error.h:

lib/cleanup.h:
