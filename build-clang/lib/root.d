build-clang/lib/root.o: lib/root.c lib/root.h lib/cleanup.h

lib/root.h:

lib/cleanup.h:
