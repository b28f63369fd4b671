#!/usr/bin/env python3
"""The lecture's TLS echo server (Lecture 8): a certificate and key in PEM, the listening socket wrapped, bytes echoed.

    python3 lecture_server.py CERTFILE KEYFILE [--port 0]

Listens on 127.0.0.1 only; prints "Listening on 127.0.0.1:PORT" once ready; serves one client at a time until killed.
"""
import argparse
import socket
import ssl

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("certfile")
parser.add_argument("keyfile")
parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
args = parser.parse_args()

# A server context (Purpose.CLIENT_AUTH) presenting our self-signed certificate.
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(args.certfile, args.keyfile)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", args.port))
sock.listen()

# Option 2 of the lecture: wrap the listening socket; accept() then returns a TLS socket after the handshake.
with context.wrap_socket(sock, server_side=True) as server:
    print("Listening on %s:%d" % server.getsockname(), flush=True)
    while True:
        try:
            conn, address = server.accept()
        except (ssl.SSLError, OSError) as e:
            # A client that refuses our certificate aborts the handshake: say so and wait for the next one.
            print("Handshake failed:", e, flush=True)
            continue
        with conn:
            try:
                print("Client", "%s:%d" % address[:2], conn.version(), flush=True)
                while data := conn.recv(4096):
                    conn.sendall(data)
            except (ssl.SSLError, OSError) as e:
                print("Connection ended:", e, flush=True)
