#!/usr/bin/env python3
"""The lecture's TLS echo client (Lecture 8): verify the server against one CA file, print its certificate, echo.

    python3 lecture_client.py HOST PORT CAFILE [MESSAGE] [--name NAME]

NAME is the host name to verify (default HOST): the interop tests pass a name the certificate does not carry.
Exit status: 0 echoed, 4 certificate verification failed, 3 cannot connect, 8 echo differs or connection lost.
"""
import argparse
import socket
import ssl
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("host")
parser.add_argument("port", type=int)
parser.add_argument("cafile")
parser.add_argument("message", nargs="?", default="Hello, TLS")
parser.add_argument("--name", help="host name to verify (default: HOST)")
args = parser.parse_args()

# A client context (Purpose.SERVER_AUTH) that trusts only our self-signed certificate, with host-name checking on.
context = ssl.create_default_context(cafile=args.cafile)

try:
    # Wrap the socket first, then connect: the handshake and the verification happen in connect().
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with context.wrap_socket(sock, server_hostname=args.name or args.host) as tls:
        tls.settimeout(10)
        tls.connect((args.host, args.port))

        cert = tls.getpeercert()
        print("Connected with", tls.version(), tls.cipher()[0])
        print("Subject:", dict(field for rdn in cert["subject"] for field in rdn))
        print("Issuer: ", dict(field for rdn in cert["issuer"] for field in rdn))
        print("Valid:  ", cert["notBefore"], "until", cert["notAfter"])
        print("Names:  ", ", ".join(f"{kind}:{value}" for kind, value in cert.get("subjectAltName", ())))

        sent = (args.message + "\n").encode("utf-8")
        tls.sendall(sent)
        received = b""
        while len(received) < len(sent):
            chunk = tls.recv(4096)
            if not chunk:
                break
            received += chunk
        print("Echo:", received.decode("utf-8", errors="replace"), end="")
        if received != sent:
            print(f"\nEcho differs: sent {sent!r}, received {received!r}", file=sys.stderr)
            sys.exit(8)
except ssl.SSLCertVerificationError as e:
    print("Certificate verification failed:", e.verify_message, file=sys.stderr)
    sys.exit(4)
except (ConnectionError, socket.timeout, ssl.SSLError) as e:
    print("Connection failed:", e, file=sys.stderr)
    sys.exit(3 if isinstance(e, (ConnectionRefusedError, socket.timeout)) else 8)
