import ipaddress
import socket

import pytest

from config.celery import app
from tests.factories import add_member, make_person, make_unit
from tests.push_double import push_service, vapid  # noqa: F401 (fixtures: a Web Push double and a VAPID key pair)


@pytest.fixture
def unit_a(db):
    return make_unit("a", name="Unit A")


@pytest.fixture
def unit_b(db):
    return make_unit("b", name="Unit B")


@pytest.fixture
def member_a(unit_a):
    person = make_person("Alice Member")
    add_member(unit_a, person)
    return person


@pytest.fixture
def member_b(unit_b):
    person = make_person("Bob Member")
    add_member(unit_b, person)
    return person


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Network:
    """What the code under test asked of the network: the names it looked up and the addresses it connected to.

    ``dns`` gives the answer for a name (as if the partner's DNS said so). A connection anywhere but loopback is
    refused and recorded, so a test can never send traffic off this machine, even against code that would."""

    def __init__(self, real_getaddrinfo, real_connect):
        self.dns: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self.connected: list[str] = []
        self._getaddrinfo, self._connect = real_getaddrinfo, real_connect

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        self.lookups.append(host)
        if host not in self.dns:
            return self._getaddrinfo(host, port, family, type, proto, flags)
        answers = []
        for address in self.dns[host]:
            if ":" in address:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    def connect(self, sock, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        self.connected.append(host)
        if isinstance(address, tuple) and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"tests never connect to {host}")
        return self._connect(sock, address)


@pytest.fixture
def network(monkeypatch):
    net = Network(socket.getaddrinfo, socket.socket.connect)
    monkeypatch.setattr(socket, "getaddrinfo", net.getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: net.connect(sock, address))
    return net


@pytest.fixture
def eager_tasks():
    """Celery tasks run in the caller's process as they are enqueued, as a worker would run them at once."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
