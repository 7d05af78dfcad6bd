"""Loopback ports for the servers the Python tests start, as tests/common/free_ports.h picks
them for the C++ tests: below the kernel's ephemeral range, so that no client connection takes
the port between this check and the server's own bind."""
import random
import socket


def free_port():
    """A loopback port in [2000, 10000) that nothing is bound to now."""
    while True:
        port = random.randrange(2000, 10000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
