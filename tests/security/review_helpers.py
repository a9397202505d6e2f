"""For tests/security/test_review_*.py: a real `corral server` process (the console script, as
an operator starts it), run as this test's user (root in CI), on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.server.helpers import ADMIN_TOKEN, Api, free_port

from .isolation_helpers import _wait_healthy

SOURCE = Path(__file__).resolve().parents[2] / "src"


@contextmanager
def corral_server(folder: Path, *flags: str) -> Iterator[Api]:
    """`corral server --data-dir FOLDER/data --admin-token-file ... FLAGS`; an admin's client."""
    folder.mkdir(parents=True, exist_ok=True)
    token_file = folder / "admin-token"
    token_file.write_text(ADMIN_TOKEN + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    port = free_port()
    command = [sys.executable, "-c", "from corral.cli.main import main; main()", "server"]
    command += [
        "--port",
        str(port),
        "--data-dir",
        str(folder / "data"),
        "--admin-token-file",
        str(token_file),
    ]
    env = {**os.environ, "PYTHONPATH": str(SOURCE)}
    with subprocess.Popen(
        [*command, *flags], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    ) as process:
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process)
            yield Api(url, ADMIN_TOKEN)
        finally:
            process.terminate()
            process.wait(10)


@contextmanager
def git_over_http(repository: Path) -> Iterator[str]:
    """The repository served over smart HTTP on a free loopback port (any user and password
    are accepted); its URL without credentials."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler

    from dulwich.repo import Repo
    from dulwich.server import DictBackend
    from dulwich.web import WSGIServerLogger, make_server, make_wsgi_chain

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    app = make_wsgi_chain(DictBackend({b"/": Repo(str(repository))}))
    port = free_port()
    server = make_server("127.0.0.1", port, app, handler_class=Quiet, server_class=WSGIServerLogger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        thread.join(10)
