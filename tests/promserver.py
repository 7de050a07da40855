"""A real Prometheus server for tests: backfilled from OpenMetrics text, on 127.0.0.1.

The binaries come from Debian's ``prometheus`` package, fetched and unpacked (not
installed) by ``tools/fetch-prometheus`` into ``.cache/prometheus``; set
``BAYESCOUNT_PROMETHEUS_BIN`` to use another folder holding ``prometheus`` and
``promtool``. Without them the tests that need a server are skipped locally and fail
under ``CI`` (where ``.ci/run`` fetches them).

Use::

    with PrometheusServer(tmp_path, openmetrics_text) as server:
        httpx.get(server.url + "/api/v1/query", params={"query": "up"})

The server runs with ``--config.file`` pointing at an empty configuration (it scrapes
nothing), ``--storage.tsdb.retention.time=3650d`` (the default retention deletes
backfilled blocks older than 15 days at start) and is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN_ENV = "BAYESCOUNT_PROMETHEUS_BIN"


def prometheus_bin() -> Path:
    """The folder holding ``prometheus`` and ``promtool``; skips (fails under CI) if absent."""
    folder = Path(os.environ.get(BIN_ENV, ROOT / ".cache" / "prometheus" / "usr" / "bin"))
    if (folder / "prometheus").is_file() and (folder / "promtool").is_file():
        return folder
    message = (
        f"Prometheus binaries not found in {folder}: run tools/fetch-prometheus "
        f"(or set {BIN_ENV})"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``promtool`` with ``args``; the completed process (never raises on exit code)."""
    return subprocess.run(
        [str(prometheus_bin() / "promtool"), *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill(openmetrics_text: str, data_dir: Path, work_dir: Path) -> None:
    """Write TSDB blocks for ``openmetrics_text`` (must end with ``# EOF``) into ``data_dir``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    source = work_dir / "backfill.om"
    source.write_text(openmetrics_text)
    done = promtool("tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir))
    if done.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {done.stdout}\n{done.stderr}")


class PrometheusServer:
    """A Prometheus server on a free 127.0.0.1 port over a backfilled TSDB.

    Parameters
    ----------
    root : Path
        A fresh folder for the TSDB, the empty configuration and the log.
    openmetrics_text : str, optional
        Samples to backfill before the start (OpenMetrics text ending in ``# EOF``).
    extra_args : list of str, optional
        More ``prometheus`` flags (e.g. ``--query.max-samples=1000``).
    """

    def __init__(
        self, root: Path, openmetrics_text: str | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.data_dir = self.root / "tsdb"
        self.extra_args = list(extra_args or [])
        self.port = 0
        self.process: subprocess.Popen | None = None
        if openmetrics_text is not None:
            backfill(openmetrics_text, self.data_dir, self.root / "backfill")

    @property
    def url(self) -> str:
        """The server's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrometheusServer:
        """Start the server and wait until ``/-/ready`` answers 200."""
        config = self.root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n")
        self.port = free_port()
        log = open(self.root / "prometheus.log", "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.process = subprocess.Popen(
            [
                str(prometheus_bin() / "prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-admin-api",
                *self.extra_args,
            ],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"prometheus exited with {self.process.returncode}: "
                    + (self.root / "prometheus.log").read_text()[-2000:]
                )
            try:
                if httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prometheus not ready after {timeout} s")

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def copy_tree(source: Path, target: Path) -> None:
    """Copy a TSDB folder (so one backfill can serve several servers)."""
    shutil.copytree(source, target)
