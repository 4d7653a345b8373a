#!/usr/bin/env python3
"""hot.py: N listeners on 127.0.0.1 (backlog 1) that never accept; on SIGUSR1 one
connection to each (from a child process: the open-file limit is per process),
which leaves every queue above half its backlog: every listener hot at once.
Writes each step ("listening", "connected") to the --ready file."""
import argparse
import os
import resource
import signal
import socket
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--listeners", type=int, required=True)
ap.add_argument("--port-base", type=int, default=20000)
ap.add_argument("--ready", required=True)
ap.add_argument("--lifetime", type=int, default=600)
a = ap.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
need = a.listeners + 64
if hard != resource.RLIM_INFINITY and need > hard:
    sys.exit("hot.py: %d descriptors needed, the limit is %d" % (need, hard))
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))

listeners = []
for i in range(a.listeners):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port_base + i))
    s.listen(1)
    listeners.append(s)

def ready(step):
    with open(a.ready, "w") as f:
        f.write("%s\n" % step)

go = []
signal.signal(signal.SIGUSR1, lambda *_: go.append(1))
ready("listening")
deadline = time.monotonic() + a.lifetime
while not go and time.monotonic() < deadline:
    time.sleep(0.05)
if go and os.fork() == 0:
    for s in listeners:
        s.close()
    clients = []
    for i in range(a.listeners):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", a.port_base + i))
        clients.append(c)
    ready("connected")
while time.monotonic() < deadline:
    time.sleep(0.5)
