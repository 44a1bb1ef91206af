build-clang/lib/jsonout.o: lib/jsonout.c lib/jsonout.h lib/cleanup.h

lib/jsonout.h:

lib/cleanup.h:
