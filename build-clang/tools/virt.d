build-clang/tools/virt.o: tools/virt.c tools/virt.h lib/cleanup.h \
  lib/error.h

tools/virt.h:

lib/cleanup.h:

lib/error.h:
