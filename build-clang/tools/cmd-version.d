build-clang/tools/cmd-version.o: tools/cmd-version.c tools/commands.h \
  tools/cli.h lib/error.h lib/cleanup.h lib/root.h lib/version.h

tools/commands.h:

tools/cli.h:

lib/error.h:

lib/cleanup.h:

lib/root.h:

lib/version.h:
