build-clang/hooks/qemu-hook.o: hooks/qemu-hook.c \
  /usr/include/libxml2/libxml/parser.h \
  /usr/include/libxml2/libxml/xmlversion.h \
  /usr/include/libxml2/libxml/xmlexports.h \
  /usr/include/libxml2/libxml/tree.h \
  /usr/include/libxml2/libxml/xmlstring.h \
  /usr/include/libxml2/libxml/xmlregexp.h \
  /usr/include/libxml2/libxml/dict.h /usr/include/libxml2/libxml/hash.h \
  /usr/include/libxml2/libxml/valid.h \
  /usr/include/libxml2/libxml/xmlerror.h \
  /usr/include/libxml2/libxml/list.h \
  /usr/include/libxml2/libxml/xmlautomata.h \
  /usr/include/libxml2/libxml/entities.h \
  /usr/include/libxml2/libxml/encoding.h \
  /usr/include/libxml2/libxml/xmlIO.h \
  /usr/include/libxml2/libxml/globals.h \
  /usr/include/libxml2/libxml/SAX2.h /usr/include/libxml2/libxml/xlink.h \
  /usr/include/libxml2/libxml/xmlmemory.h \
  /usr/include/libxml2/libxml/threads.h lib/checks.h lib/domain.h \
  lib/cpuset.h lib/error.h lib/cleanup.h lib/policy.h lib/util.h \
  lib/demands.h lib/state.h lib/knobs.h lib/fileio.h lib/lifecycle.h \
  lib/reconcile.h lib/log.h lib/msix.h lib/argv.h lib/patch.h \
  lib/privs.h lib/root.h lib/svirt.h lib/wrapper_conf.h lib/xml.h

/usr/include/libxml2/libxml/parser.h:

/usr/include/libxml2/libxml/xmlversion.h:

/usr/include/libxml2/libxml/xmlexports.h:

/usr/include/libxml2/libxml/tree.h:

/usr/include/libxml2/libxml/xmlstring.h:

/usr/include/libxml2/libxml/xmlregexp.h:

/usr/include/libxml2/libxml/dict.h:

/usr/include/libxml2/libxml/hash.h:

/usr/include/libxml2/libxml/valid.h:

/usr/include/libxml2/libxml/xmlerror.h:

/usr/include/libxml2/libxml/list.h:

/usr/include/libxml2/libxml/xmlautomata.h:

/usr/include/libxml2/libxml/entities.h:

/usr/include/libxml2/libxml/encoding.h:

/usr/include/libxml2/libxml/xmlIO.h:

/usr/include/libxml2/libxml/globals.h:

/usr/include/libxml2/libxml/SAX2.h:

/usr/include/libxml2/libxml/xlink.h:

/usr/include/libxml2/libxml/xmlmemory.h:

/usr/include/libxml2/libxml/threads.h:

lib/checks.h:

lib/domain.h:

lib/cpuset.h:

lib/error.h:

lib/cleanup.h:

lib/policy.h:

lib/util.h:

lib/demands.h:

lib/state.h:

lib/knobs.h:

lib/fileio.h:

lib/lifecycle.h:

lib/reconcile.h:

lib/log.h:

lib/msix.h:

lib/argv.h:

lib/patch.h:

lib/privs.h:

lib/root.h:

lib/svirt.h:

lib/wrapper_conf.h:

lib/xml.h:
