"""Requests to addresses someone typed: Web Push endpoints (a responder's browser gives them) and partner
agencies' webhooks (an admin types them).

The same rules are checked twice:

- when the address is saved (``url_problem``, ``resolved_problem``), so the person gets an error naming the field;
- when it is used (``guarded_session``), which is what makes it safe. The host is resolved once, every address it
  resolves to is checked, and the socket connects to one of those checked addresses; TLS still verifies the host
  name. So a name that pointed to a public address when it was saved and to 127.0.0.1 now (DNS rebinding) is
  refused. Redirects are never followed and no proxy or certificate bundle from the environment is used.

An address is refused when it is loopback, private, link-local, multicast, reserved or a cloud metadata address
(IPv4-mapped and 6to4 IPv6 forms included), unless the operator named its host in the channel's setting: then
only metadata, multicast and unspecified addresses are refused. Only ``https`` is used, except plain ``http`` to a
loopback host the operator named (a test double or a relay on the same machine: nothing leaves the machine).

Failures are described in our own few words (``failure_reason``, ``status_reason``): nothing a far server says,
and no socket error text, is ever stored, so a stored error can neither leak a body nor map ports.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services (AWS, GCP and Azure IMDS, AWS over IPv6, Alibaba, Azure's wire server, Oracle):
# never reached, whatever a setting says.
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16", "192.0.0.192"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
METADATA_KIND, UNSPECIFIED, MULTICAST, LOOPBACK = (
    "a cloud metadata address", "an unspecified address", "a multicast address", "a loopback address")
# Not even a host the operator named may reach these.
NEVER_REACHED = (METADATA_KIND, UNSPECIFIED, MULTICAST)
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class OutboundRefused(Exception):
    """The address may not be reached. The message says why, in words meant for a person."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Where one kind of request may go.

    ``hosts``: the hosts allowed (``*.example.com`` is any host under example.com); empty allows every host.
    ``trusted``: hosts the operator named on purpose, which may resolve to loopback or private addresses.
    """

    what: str
    hosts: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()
    setting: str = ""

    def allows_host(self, host: str) -> bool:
        return not self.hosts or any(host_matches(host, pattern) for pattern in self.hosts)

    def trusts(self, host: str) -> bool:
        return any(normal_host(host) == normal_host(name) for name in self.trusted)


def push_policy() -> OutboundPolicy:
    """Push endpoints: only the push services in ``PUSH_SERVICE_HOSTS``. An entry that is an IP address or
    ``localhost`` can only mean a service on the operator's own network (or a test double), so it is trusted."""
    hosts = tuple(settings.PUSH_SERVICE_HOSTS)
    named = tuple(h for h in hosts if is_ip_literal(h) or normal_host(h) in LOOPBACK_NAMES)
    return OutboundPolicy(what="push service", hosts=hosts, trusted=named, setting="PUSH_SERVICE_HOSTS")


def webhook_policy() -> OutboundPolicy:
    """Partner webhooks: any public host; private ones only when named in ``WEBHOOK_ALLOWED_HOSTS``."""
    return OutboundPolicy(what="webhook", trusted=tuple(settings.WEBHOOK_ALLOWED_HOSTS),
                          setting="WEBHOOK_ALLOWED_HOSTS")


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def host_matches(host: str, pattern: str) -> bool:
    host, pattern = normal_host(host), normal_host(pattern)
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(normal_host(host))
    except ValueError:
        return False
    return True


def address_kind(ip: IPAddress) -> str | None:
    """What makes ``ip`` an address we do not send to, or None for an ordinary public address."""
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None:
            return address_kind(embedded)
    if ip in METADATA:
        return METADATA_KIND
    if ip.is_unspecified:
        return UNSPECIFIED
    if ip.is_multicast:
        return MULTICAST
    if ip.is_loopback:
        return LOOPBACK
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "a private or reserved address"
    return None


def address_problem(ip: IPAddress, *, trusted: bool, plain_http: bool) -> str | None:
    """Why we may not connect to ``ip``, or None. A host the operator named (``trusted``) may be private."""
    kind = address_kind(ip)
    if plain_http and kind != LOOPBACK:
        return "plain http is only used to a loopback address"
    if kind is None or (trusted and kind not in NEVER_REACHED):
        return None
    return f"it points to {kind}"


def url_problem(url: str, policy: OutboundPolicy) -> str | None:
    """What is wrong with ``url`` before any name is looked up: its form, scheme and host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return "This is not a valid address."
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        return "The address must start with https:// and name a host."
    if parts.username or parts.password:
        return "The address must not carry a user name or password."
    if not policy.allows_host(host):
        return f"{host} is not one of the {policy.what}s allowed ({policy.setting})."
    trusted = policy.trusts(host)
    if parts.scheme == "http" and not (trusted and is_loopback_name(host)):
        return "The address must use https://."
    if is_ip_literal(host) and (problem := address_problem(ipaddress.ip_address(normal_host(host)), trusted=trusted,
                                                          plain_http=False)):
        return f"This address is not allowed: {problem} ({policy.setting} names the hosts allowed)."
    if normal_host(host) in LOOPBACK_NAMES and not trusted:
        return f"This address is not allowed: it points to a loopback address ({policy.setting})."
    return None


def is_loopback_name(host: str) -> bool:
    if normal_host(host) in LOOPBACK_NAMES:
        return True
    return is_ip_literal(host) and ipaddress.ip_address(normal_host(host)).is_loopback


def resolved_problem(url: str, policy: OutboundPolicy) -> str | None:
    """``url_problem``, then the addresses its host resolves to now. A name that does not resolve yet passes:
    the check when sending decides, and a partner may set up its DNS after the agency is entered."""
    if problem := url_problem(url, policy):
        return problem
    parts = urlsplit(url)
    try:
        resolve(parts.hostname, parts.port or 443, policy, plain_http=parts.scheme == "http")
    except OutboundRefused as refused:
        return f"This address is not allowed: {refused}"
    except OSError:
        return None
    return None


def resolve(host: str, port: int, policy: OutboundPolicy, *, plain_http: bool) -> list[tuple]:
    """Every address ``host`` resolves to, checked: one refused address refuses the host, since a name that
    answers with a private address among public ones is what DNS rebinding looks like."""
    trusted = policy.trusts(host)
    found = socket.getaddrinfo(normal_host(host), port, type=socket.SOCK_STREAM)
    for *_, sockaddr in found:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if problem := address_problem(ip, trusted=trusted, plain_http=plain_http):
            raise OutboundRefused(f"{host} resolves to an address not allowed ({problem}; {policy.setting}).")
    return found


def connect(host: str, port: int, timeout, policy: OutboundPolicy, *, plain_http: bool, source_address=None,
            socket_options=None) -> socket.socket:
    """A socket connected to a checked address of ``host`` (as ``socket.create_connection`` would)."""
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in resolve(host, port, policy, plain_http=plain_http):
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as error:
            last_error = error
            sock.close()
    raise last_error or OSError(f"{host} has no address")


class GuardedConnectionMixin:
    policy: OutboundPolicy
    plain_http = False

    def _new_conn(self) -> socket.socket:
        # urllib3's own _new_conn with our connect: the same exceptions, so requests reports them the same way.
        try:
            return connect(self.host, self.port, self.timeout, self.policy, plain_http=self.plain_http,
                           source_address=self.source_address, socket_options=self.socket_options)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
        except OSError as error:
            raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


class GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: OutboundPolicy):
        self.policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http = type("GuardedHTTPConnection", (GuardedConnectionMixin, HTTPConnection),
                    {"policy": self.policy, "plain_http": True})
        https = type("GuardedHTTPSConnection", (GuardedConnectionMixin, HTTPSConnection), {"policy": self.policy})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


class GuardedSession(requests.Session):
    """A session that sends only where ``policy`` allows, checked again at connect time, never redirected."""

    def __init__(self, policy: OutboundPolicy):
        super().__init__()
        self.policy = policy
        self.trust_env = False  # no proxy from the environment: we must connect to the checked address ourselves
        for prefix in ("http://", "https://"):
            self.mount(prefix, GuardedAdapter(policy))

    def request(self, method, url, *args, **kwargs):
        if problem := url_problem(url, self.policy):
            raise OutboundRefused(problem)
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def guarded_session(policy: OutboundPolicy) -> GuardedSession:
    return GuardedSession(policy)


def failure_reason(error: requests.RequestException) -> str:
    """A request that got no answer, in our words: never the exception's text, which names hosts and ports."""
    if isinstance(error, requests.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    if isinstance(error, requests.ConnectionError) and caused_by(error, NameResolutionError):
        return "the host name was not found"
    if isinstance(error, requests.ConnectionError) and caused_by(error, NewConnectionError):
        return "could not connect"
    if isinstance(error, requests.ConnectionError):
        return "the connection broke off"
    return "the request failed"


def caused_by(error: BaseException, kind: type) -> bool:
    seen, hops = error, 0
    while seen is not None and hops < 10:
        if isinstance(seen, kind):
            return True
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__ or (
            seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
        hops += 1
    return False


def status_reason(status: int | None) -> str:
    """An HTTP status as a person reads it, from the standard phrase, never from the answer's body."""
    if status is None:
        return "no status"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    if 300 <= status < 400:
        return f"{status} {phrase} (redirects are not followed)"
    return f"{status} {phrase}"


def smtp_reason(code: int) -> str:
    """An SMTP reply code in our words; the reply's text is the server's (and may quote a remote one)."""
    if 400 <= code < 500:
        return "refused for now, to try again later"
    if 500 <= code < 600:
        return "refused"
    return "an unexpected reply"


def smtp_failure(error: OSError | smtplib.SMTPException) -> str:
    """A mail server that could not be reached or hung up, in our words."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(error, socket.gaierror):
        return "the host name was not found"
    if isinstance(error, ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the server hung up"
    if isinstance(error, smtplib.SMTPException):
        return "the server did not follow the protocol"
    return "could not connect"
