"""Serve any WSGI app on loopback from a background thread (used by every emulator).

    server = serve(app)          # port 0: the OS picks a free port
    requests.get(server.url + "/health")
    server.shutdown()
"""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # one line per request drowns test output
        pass


class ServerThread:
    """A threaded werkzeug server running in a daemon thread."""

    def __init__(self, wsgi_app, host: str = "127.0.0.1", port: int = 0, *,
                 quiet: bool = True) -> None:
        handler = _QuietHandler if quiet else None
        self._server = make_server(host, port, wsgi_app, threaded=True, request_handler=handler)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_port
        display_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{display_host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"wsgi-{self.port}", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 5.0) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def serve(wsgi_app, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> ServerThread:
    """Starts ``wsgi_app`` on ``host:port`` (0 = any free port); ``quiet`` drops access logs."""
    return ServerThread(wsgi_app, host, port, quiet=quiet)
