#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/integration/irqbalance-setup.py SOCKET — send "setup" to irqbalance
# and print its raw reply: the oracle t-irqbalance.sh checks lib/irqbalance.c
# against, written apart from it.  SOCKET is a path, "@NAME" (abstract) or
# "@" (the all-zero abstract address irqbalance falls back to).
import os
import socket
import struct
import sys

addr = sys.argv[1]
if addr == "@":
    a = b"\0" * 108
elif addr.startswith("@"):
    a = b"\0" + addr[1:].encode()
else:
    a = addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(a)
creds = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
s.sendmsg([b"setup"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.write(data.decode("ascii", "replace") + "\n")
