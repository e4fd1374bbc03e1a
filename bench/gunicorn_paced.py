"""gunicorn settings for paced load (bench/mixed_load.py): TCP_DEFER_ACCEPT on the listening socket.

wrk opens a connection as soon as the last answer arrives (gunicorn's sync workers close every connection) and only
then waits for the next request's slot. A sync worker that accepts such a connection blocks reading it until the
request comes, while other connections' requests wait behind it: an artifact of the load generator that inflated the
paced run's p90/p99 several times over on this machine (p99 43-166 ms against 11-13 ms for a 4 ms handler at 16%
load). Real clients, and proxies, connect when they have a request to send. With TCP_DEFER_ACCEPT, the kernel hands
a connection to accept() only once its first bytes have arrived, which is what such clients look like. It changes
nothing for a closed loop, where wrk writes the request right after connecting.

    gunicorn --config bench/gunicorn_paced.py ... api.wsgi:app
"""

import socket

DEFER_SECONDS = 30  # longer than any wait for a slot


def when_ready(server) -> None:
    """Set TCP_DEFER_ACCEPT on every listening socket (before the workers are forked)."""
    for listener in server.LISTENERS:
        listener.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, DEFER_SECONDS)
