"""Fixtures of the Prometheus reader tests: generated counters on a real server, stubs.

``prom`` is one real Prometheus server (session scope) backfilled with
:func:`promdata.generate`'s counters; ``stub`` is a tiny scripted HTTP server for the
faults a real server does not produce on demand (503, slowness, warnings).
"""

from __future__ import annotations

import pytest
from promdata import Generated, generate
from promserver import PrometheusServer
from stubserver import StubServer


@pytest.fixture(scope="session")
def generated() -> Generated:
    """The synthetic counters and their true events."""
    return generate()


@pytest.fixture(scope="session")
def prom(tmp_path_factory, generated) -> PrometheusServer:
    """A real Prometheus server holding the generated counters."""
    server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), generated.text)
    with server:
        yield server


@pytest.fixture
def stub():
    """A scripted HTTP server on 127.0.0.1 (see :class:`stubserver.StubServer`)."""
    server = StubServer()
    with server:
        yield server
