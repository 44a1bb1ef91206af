build-clang/tools/help.o: tools/help.c tools/commands.h tools/cli.h \
  lib/error.h lib/cleanup.h

tools/commands.h:

tools/cli.h:

lib/error.h:

lib/cleanup.h:
