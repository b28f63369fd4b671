#!/usr/bin/env python3
"""The lecture's TLS echo server (sections 8.1-8.2), a reference for the benchmark: one thread per client.

Unlike the lecture's code it sets TCP_NODELAY on every accepted socket, as our server and the JSSE reference do:
without it Nagle's algorithm holds each small echo back until the peer's delayed ACK (about 40 ms on Linux), and
the figure would measure that instead of Python's TLS. It says so once, for the first client.

Usage: ref_python_server.py [--port N] [--keystore certs/server.p12] [--password-file certs/server.pass]
"""
import argparse
import os
import socket
import ssl
import subprocess
import tempfile
import threading


def server_context(keystore, password_file):
    """The lecture's server context: purpose CLIENT_AUTH, then load_cert_chain(certfile, keyfile)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # Python's ssl reads PEM only, and certgen.sh writes PKCS12: export key and certificate with openssl
    # into a private (0600, mkstemp) temporary file, load it, and delete it at once.
    pem = subprocess.run(
        ["openssl", "pkcs12", "-in", keystore, "-nodes", "-passin", "file:" + password_file],
        check=True, capture_output=True).stdout
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(pem)
        context.load_cert_chain(certfile=path, keyfile=path)
    finally:
        os.unlink(path)
    return context


def echo(context, client):
    # Option 1 of section 8.2: wrap the accepted socket (server_side=True), so a slow handshake
    # holds up only this client's thread, not the accept loop.
    try:
        with context.wrap_socket(client, server_side=True) as tls:
            while data := tls.recv(16384):
                tls.sendall(data)
    except OSError:
        pass  # ssl.SSLError is an OSError: a reset or failed handshake ends this client only


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--keystore", default="certs/server.p12")
    parser.add_argument("--password-file", default="certs/server.pass")
    args = parser.parse_args()
    context = server_context(args.keystore, args.password_file)
    with socket.create_server(("127.0.0.1", args.port)) as server:
        print(f"Listening on 127.0.0.1:{server.getsockname()[1]} (TLS, Python reference)", flush=True)
        first = True
        while True:
            client, _ = server.accept()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if first:
                nodelay = client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                print(f"First client: TCP_NODELAY={str(nodelay).lower()}", flush=True)
                first = False
            threading.Thread(target=echo, args=(context, client), daemon=True).start()


if __name__ == "__main__":
    main()
