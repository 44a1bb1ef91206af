build-clang/tools/vmhooks.o: tools/vmhooks.c tools/cli.h lib/error.h \
  lib/cleanup.h tools/commands.h lib/util.h lib/version.h

tools/cli.h:

lib/error.h:

lib/cleanup.h:

tools/commands.h:

lib/util.h:

lib/version.h:
