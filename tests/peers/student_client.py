#!/usr/bin/env python3
"""A student's TLS echo client written with Python's ssl, for the lab check: it must get full marks but for the
report fields that Python's standard library cannot print (the public key and the signature algorithm).

    python3 student_client.py HOST PORT CAFILE      (one line from stdin is sent; what comes back is printed)
"""
import hashlib
import socket
import ssl
import sys

host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def fail(status, problem):
    print(f"student_client: {host}:{port}: {problem}", file=sys.stderr)
    sys.exit(status)


try:
    context = ssl.create_default_context(cafile=cafile)   # TLS 1.2 or newer, chain, dates and host name checked
except (OSError, ssl.SSLError):
    fail(9, f"no certificate read from {cafile}")
try:
    with socket.create_connection((host, port), timeout=10) as tcp:
        with context.wrap_socket(tcp, server_hostname=host) as tls:
            cert = tls.getpeercert()
            print("Subject:", ", ".join(f"{k}={v}" for rdn in cert["subject"] for k, v in rdn))
            print("Names:", ", ".join(f"{kind}:{value}" for kind, value in cert.get("subjectAltName", ())))
            print("Valid:", cert["notBefore"], "until", cert["notAfter"])
            print("Serial:", cert["serialNumber"])
            print("SHA-256:", hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest())
            print("Session:", tls.version(), tls.cipher()[0])
            line = sys.stdin.readline().encode("utf-8")
            tls.sendall(line)
            answer = b""
            while not answer.endswith(b"\n"):
                chunk = tls.recv(4096)
                if not chunk:
                    break
                answer += chunk
            print("echo:", answer.decode("utf-8", errors="replace"), end="")
            if answer != line:
                fail(8, "the echo differs from what was sent")
except ssl.SSLCertVerificationError as e:
    fail(4, f"certificate refused: {e.verify_message}")
except ssl.SSLError as e:
    fail(7, f"TLS failed: {e.reason}")
except OSError as e:
    fail(3, f"cannot connect: {e.strerror or type(e).__name__}")
