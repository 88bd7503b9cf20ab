"""moto's server with one request at a time.

moto's threaded server does not lock around a DynamoDB TransactWriteItems, so two
concurrent conditional transactions can interleave between the condition check
and the write -- something real DynamoDB never allows (transactions are
serializable). Serializing requests makes moto a faithful model of DynamoDB's
isolation for the concurrency tests; it costs nothing that matters on loopback.

Usage: python moto_serialized_server.py HOST PORT
"""

import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # Materialise the body inside the lock so the whole request is one step.
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
