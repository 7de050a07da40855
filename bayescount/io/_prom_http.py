"""A small typed client of the Prometheus HTTP API (``/api/v1/query``, ``query_range``).

Built on ``httpx``. Every failure becomes a
:class:`~bayescount.exceptions.PrometheusError` subclass whose one-line message
names the server, the query and the fix; the ``warnings`` and ``infos`` of an answer
are issued as :class:`~bayescount.exceptions.PrometheusWarning` (once each).

Retries
-------
Our own bounded loop (a dozen lines; httpx's ``HTTPTransport(retries=...)`` retries
only failed connection attempts): an answer 429, 502, 503 or 504, or a timeout, is
retried up to ``retries`` times after ``backoff · 2**attempt`` seconds (capped at
10 s; a numeric ``Retry-After`` up to 30 s is honoured instead). Connection refused,
TLS failures and 4xx answers are not retried: they do not heal in seconds.

Credentials
-----------
From the environment or a file, never from a command-line value (which other users
of the machine can read in the process table): a bearer token from ``token_file`` or
``BAYESCOUNT_PROMETHEUS_TOKEN``, or basic auth from ``BAYESCOUNT_PROMETHEUS_USER``
and ``BAYESCOUNT_PROMETHEUS_PASSWORD``.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bayescount._warnings import warn
from bayescount.exceptions import (
    PrometheusAuthError,
    PrometheusConnectionError,
    PrometheusError,
    PrometheusQueryError,
    PrometheusTimeoutError,
    PrometheusTLSError,
    PrometheusUnavailableError,
    PrometheusWarning,
    SpecError,
)

__all__ = ["ENV_PASSWORD", "ENV_TOKEN", "ENV_USER", "PromClient", "Series", "make_auth"]

_log = logging.getLogger(__name__)

ENV_TOKEN = "BAYESCOUNT_PROMETHEUS_TOKEN"
ENV_USER = "BAYESCOUNT_PROMETHEUS_USER"
ENV_PASSWORD = "BAYESCOUNT_PROMETHEUS_PASSWORD"
#: Answers worth another try after a pause.
RETRY_STATUS = frozenset({429, 502, 503, 504})
_MAX_DELAY = 10.0
_MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True)
class Series:
    """One series of a ``matrix`` answer: its labels and samples.

    ``t_ms`` holds the sample times in integer Unix milliseconds (Prometheus's own
    resolution), ``values`` the sample values as floats.
    """

    labels: Mapping[str, str]
    t_ms: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


class _BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # noqa: D102 - httpx hook
        request.headers["Authorization"] = self._header
        yield request


def make_auth(token_file: str | Path | None = None) -> httpx.Auth | None:
    """Return the credentials to send: a bearer token or basic auth, or None.

    Parameters
    ----------
    token_file : str or Path, optional
        A file holding the bearer token (surrounding blanks and the final newline are
        dropped). Takes precedence over ``BAYESCOUNT_PROMETHEUS_TOKEN``.

    Returns
    -------
    httpx.Auth or None
        Bearer auth from the file or ``BAYESCOUNT_PROMETHEUS_TOKEN``; basic auth from
        ``BAYESCOUNT_PROMETHEUS_USER`` and ``BAYESCOUNT_PROMETHEUS_PASSWORD``; None
        when none of them is set.

    Raises
    ------
    PrometheusAuthError
        The token file cannot be read or is empty, only one of user and password is
        set, or both a token and a user are given.
    """
    token = None
    if token_file is not None:
        try:
            token = Path(token_file).read_text().strip()
        except OSError as err:
            raise PrometheusAuthError(
                f"Cannot read the token file {token_file}: {err.strerror or err}."
            ) from None
        if not token:
            raise PrometheusAuthError(f"The token file {token_file} is empty.")
    elif os.environ.get(ENV_TOKEN, "").strip():
        token = os.environ[ENV_TOKEN].strip()
    user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
    if (user is None) != (password is None):
        have, missing = (ENV_USER, ENV_PASSWORD) if user is not None else (ENV_PASSWORD, ENV_USER)
        raise PrometheusAuthError(f"{have} is set but {missing} is not: set both for basic auth.")
    if token is not None and user is not None:
        raise PrometheusAuthError(
            f"Both a bearer token ({'the token file' if token_file else ENV_TOKEN}) and basic "
            f"auth ({ENV_USER}) are set: keep one."
        )
    if token is not None:
        return _BearerAuth(token)
    if user is not None:
        return httpx.BasicAuth(user, password or "")
    return None


def _ssl_context(verify: bool, ca_file: str | Path | None) -> ssl.SSLContext | bool:
    if ca_file is None:
        return verify
    if not verify:
        raise SpecError("Give ca_file= (--ca-file) or verify=False (--insecure), not both.")
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as err:
        raise PrometheusTLSError(
            f"Cannot load the CA file {ca_file}: {getattr(err, 'strerror', None) or err}; "
            "give a PEM file of the CA certificate(s) that signed the server's certificate."
        ) from None


def _tls_reason(err: BaseException) -> str | None:
    """Return the TLS error behind ``err`` (httpx wraps it), or None."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return getattr(seen, "verify_message", None) or seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    text = str(err)
    return text if "SSL" in text or "CERTIFICATE" in text else None


class PromClient:
    """A Prometheus server's HTTP API: typed answers, clear errors, bounded retries.

    Parameters
    ----------
    url : str
        The server's base URL (``https://prometheus.example:9090``, with a path
        prefix when it is served under one).
    timeout : float
        Seconds to wait for the connection and for each answer.
    retries : int
        How many times a 429/502/503/504 answer or a timeout is retried.
    backoff : float
        Seconds before the first retry; doubled each time (at most 10 s).
    auth : httpx.Auth, optional
        Credentials (see :func:`make_auth`).
    verify : bool
        Verify the server's TLS certificate (default). False only for a test server.
    ca_file : str or Path, optional
        PEM file of the CA that signed the server's certificate.
    transport : httpx.BaseTransport, optional
        Replaces the network (``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        auth: httpx.Auth | None = None,
        verify: bool = True,
        ca_file: str | Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise SpecError(
                f"Prometheus URL {url!r} is not an http(s) URL: give e.g. "
                "'http://localhost:9090' or 'https://prometheus.example.com'."
            )
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise SpecError(
                f"timeout must be > 0, retries and backoff >= 0; got timeout={timeout}, "
                f"retries={retries}, backoff={backoff}."
            )
        self.url = str(url).rstrip("/")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._client = httpx.Client(
            auth=auth, verify=_ssl_context(verify, ca_file), timeout=self.timeout,
            transport=transport, headers={"User-Agent": "bayescount"},
        )
        self._warned: set[str] = set()

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def __enter__(self) -> PromClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- endpoints
    def query_matrix(self, expr: str, time_ms: int, *, context: str = "") -> list[Series]:
        """Evaluate a range-vector ``expr`` at ``time_ms``: the raw samples per series.

        Parameters
        ----------
        expr : str
            A PromQL expression whose value is a range vector (``selector[range]``).
        time_ms : int
            The evaluation time, Unix milliseconds.
        context : str
            Appended to error messages (which part of a longer read failed).

        Returns
        -------
        list of Series
        """
        data = self._call("/api/v1/query", {"query": expr, "time": _seconds(time_ms)}, context)
        if data.get("resultType") != "matrix":
            raise PrometheusQueryError(
                f"{expr!r} returned a {data.get('resultType')}, not a range vector: give a "
                f"series selector such as app_errors_total{{job=\"api\"}}{context}."
            )
        return _matrix(data, expr, context)

    def query_range(
        self, expr: str, start_ms: int, end_ms: int, step_ms: int, *, context: str = ""
    ) -> list[Series]:
        """Evaluate ``expr`` at ``start_ms, start_ms + step_ms, …, end_ms``.

        Parameters
        ----------
        expr : str
            A PromQL expression whose value is an instant vector.
        start_ms, end_ms, step_ms : int
            The evaluation times, Unix milliseconds (at most 11,000 of them).
        context : str
            Appended to error messages.

        Returns
        -------
        list of Series
            One per output series, its values at the evaluation times it has.
        """
        params = {
            "query": expr, "start": _seconds(start_ms), "end": _seconds(end_ms),
            "step": _seconds(step_ms),
        }
        data = self._call("/api/v1/query_range", params, context)
        return _matrix(data, expr, context)

    # ----------------------------------------------------------------- plumbing
    def _call(self, path: str, params: Mapping[str, str], context: str) -> dict[str, Any]:
        url = self.url + path
        query = f" Query: {params['query']}{context}."
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(url, data=dict(params))
            except httpx.TimeoutException:
                if last:
                    raise PrometheusTimeoutError(
                        f"No answer from {self.url} within {self.timeout:g} s, "
                        f"{_tries(attempt)}: raise the timeout, or read fewer samples per "
                        f"request (a smaller chunk=).{query}"
                    ) from None
                self._pause(attempt, None, "timeout")
                continue
            except httpx.ConnectError as err:
                raise _connect_error(err, self.url, query) from None
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
                raise PrometheusConnectionError(
                    f"The connection to {self.url} broke before the answer was complete "
                    f"({err or type(err).__name__}): is the server restarting or stopped?"
                    f"{query}"
                ) from None
            if response.status_code in RETRY_STATUS and not last:
                self._pause(attempt, response.headers.get("Retry-After"),
                            f"HTTP {response.status_code}")
                continue
            return self._decode(response, query, attempt)
        raise PrometheusError(f"No answer from {self.url}.{query}")  # pragma: no cover

    def _pause(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = min(self.backoff * 2**attempt, _MAX_DELAY)
        if retry_after is not None and retry_after.strip().isdigit():
            delay = min(float(retry_after), _MAX_RETRY_AFTER)
        _log.info("Prometheus %s; retry %d of %d in %.1f s", why, attempt + 1, self.retries,
                  delay)
        time.sleep(delay)

    def _decode(self, response: httpx.Response, query: str, attempt: int) -> dict[str, Any]:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        self._surface(body.get("warnings"), "warning")
        self._surface(body.get("infos"), "info")
        message = str(body.get("error") or response.text.strip()[:300]
                      or response.reason_phrase)
        if status == 200 and body.get("status") == "success" and isinstance(
            body.get("data"), dict
        ):
            return body["data"]
        url = self.url
        if status in (401, 403):
            raise PrometheusAuthError(
                f"{url} refused the credentials (HTTP {status}: {message}); set "
                f"{ENV_TOKEN} or --token-file for a bearer token, or {ENV_USER} and "
                f"{ENV_PASSWORD} for basic auth.{query}"
            )
        if status in (400, 422):
            kind = body.get("errorType") or ("bad_data" if status == 400 else "execution")
            hint = (
                " Read fewer samples per request: a smaller chunk=, fewer series, or "
                "raise the server's --query.max-samples."
                if "too many samples" in message else ""
            )
            raise PrometheusQueryError(
                f"{url} refused the query (HTTP {status} {kind}): {message}.{hint}{query}"
            )
        if status in RETRY_STATUS:
            raise PrometheusUnavailableError(
                f"{url} answered HTTP {status} ({message}) {_tries(attempt)}; try again "
                f"later, or raise retries=.{query}"
            )
        if status == 404:
            raise PrometheusError(
                f"{url} answered HTTP 404: is this the Prometheus base URL (without "
                f"/api/v1, with the path prefix it is served under)?{query}"
            )
        raise PrometheusError(f"{url} answered HTTP {status}: {message}.{query}")

    def _surface(self, notes: Iterable[str] | None, kind: str) -> None:
        for note in notes or ():
            text = f"Prometheus {kind} from {self.url}: {note}"
            if text not in self._warned:
                self._warned.add(text)
                warn(text, PrometheusWarning)


def _tries(attempt: int) -> str:
    return "on the first try" if attempt == 0 else f"on all {attempt + 1} tries"


def _connect_error(err: httpx.ConnectError, url: str, query: str) -> PrometheusError:
    reason = _tls_reason(err)
    if reason is not None:
        return PrometheusTLSError(
            f"TLS with {url} failed: {reason}. Give the CA certificate that signed the "
            "server's certificate with --ca-file PATH (ca_file=); --insecure (verify=False) "
            "skips verification, for test servers only."
        )
    text = str(err) or type(err).__name__
    if "refused" in text.lower():
        text = "connection refused; is Prometheus running there, on that port?"
    elif not text.endswith((".", "?")):
        text += "."
    return PrometheusConnectionError(f"Cannot connect to {url}: {text}{query}")


def _seconds(ms: int) -> str:
    """Unix milliseconds as the seconds string Prometheus reads (``1767571200.015``)."""
    sign = "-" if ms < 0 else ""
    whole, frac = divmod(abs(int(ms)), 1000)
    return f"{sign}{whole}.{frac:03d}"


def _matrix(data: Mapping[str, Any], expr: str, context: str) -> list[Series]:
    if data.get("resultType") not in ("matrix", None):
        raise PrometheusQueryError(
            f"{expr!r} returned a {data.get('resultType')}, not a matrix{context}."
        )
    out = []
    for item in data.get("result") or []:
        if "histograms" in item and "values" not in item:
            raise PrometheusQueryError(
                f"{expr!r} selects native histograms; give a counter{context}."
            )
        samples = item.get("values") or []
        out.append(Series(
            labels=dict(item.get("metric") or {}),
            t_ms=[round(float(t) * 1000) for t, _ in samples],
            values=[float(v) for _, v in samples],
        ))
    return out
