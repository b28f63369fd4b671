#!/usr/bin/env python3
"""Runs a server that cannot be told to listen on loopback only, plus a client for it, inside a network namespace
whose only interface is loopback, so the server is unreachable from any other machine.

    unshare --user --map-root-user --net python3 private_loopback.py PORT SERVER... -- CLIENT...

gnutls-serv has no bind-address option: it listens on every interface (getaddrinfo(NULL, AI_PASSIVE)). In a fresh
namespace "every interface" is just lo, which starts down: this brings it up, starts SERVER, waits until
127.0.0.1:PORT accepts connections, runs CLIENT with this process's stdin/stdout/stderr, stops SERVER and exits with
CLIENT's status. The server's output goes to stderr.
"""
import fcntl
import socket
import struct
import subprocess
import sys
import time

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def bring_loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def wait_until_listening(port, server, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"private_loopback: the server exited with {server.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"private_loopback: nothing listening on 127.0.0.1:{port} after {seconds} s")


args = sys.argv[1:]
if len(args) < 4 or "--" not in args[2:]:
    sys.exit(__doc__)
port, split = int(args[0]), args.index("--", 2)
server_command, client_command = args[1:split], args[split + 1:]

bring_loopback_up()
server = subprocess.Popen(server_command, stdin=subprocess.DEVNULL, stdout=sys.stderr)
try:
    wait_until_listening(port, server)
    sys.exit(subprocess.run(client_command).returncode)
finally:
    server.terminate()
    server.wait(5)
