"""A run's own certificate authority, for clients that reach the simulation by
the vendors' real host names over HTTPS (``api.stripe.com``, ``api.openai.com``).

An agent outside the harness's process sends such a request through the
loopback server as its HTTPS proxy (``CONNECT api.stripe.com:443``); the server
ends TLS with a certificate for that host, signed by this authority, which the
agent trusts because the harness hands it the authority's certificate
(``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS``,
``CURL_CA_BUNDLE``). Nothing else trusts it: it is made for one run and its key
never leaves the harness's memory. Built on ``trustme``.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import trustme

#: The variables that point clients at a bundle of trusted certificates.
CA_VARIABLES = (
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
)


class RunAuthority:
    """A certificate authority for one run, and a TLS server context per host."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="aqe-harness run")
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    @property
    def pem(self) -> str:
        """The authority's certificate, PEM-encoded (what the agent trusts)."""
        return self._ca.cert_pem.bytes().decode("ascii")

    def write(self, path: Path) -> Path:
        """Write the authority's certificate to ``path`` (for the agent)."""
        path.write_text(self.pem, encoding="ascii")
        return path

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for ``host``."""
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self._ca.issue_cert(host).configure_cert(context)
                self._contexts[host] = context
            return context

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting this authority only (for tests and tools)."""
        context = ssl.create_default_context(cadata=self.pem)
        return context
