build-clang/tools/cmd-diff.o: tools/cmd-diff.c tools/commands.h \
  tools/cli.h lib/error.h lib/cleanup.h

tools/commands.h:

tools/cli.h:

lib/error.h:

lib/cleanup.h:
