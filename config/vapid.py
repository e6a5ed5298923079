"""Web Push's VAPID key pair: the public half the app subscribes with, and the demo's pair kept in var/.

``VAPID_PRIVATE_KEY`` is what pywebpush takes: base64url (the raw 32-byte key, or DER) or the path of a PEM file.
``VAPID_PUBLIC_KEY`` is the uncompressed P-256 point in base64url, the ``applicationServerKey`` a browser's
``PushManager.subscribe`` wants. A browser subscribed with one public key takes pushes signed only by its private
half; every other push is refused by the push service, so a system check holds the two together.

``python -m config.vapid PATH`` prints the public key of the pair kept in the PEM file at PATH, making the pair
first when there is none: ``./muster run`` gives the demo its pair this way, so no private key is ever committed.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid


class VapidKeyError(ValueError):
    pass


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def private_key(value: str) -> Vapid:
    """The private key as pywebpush reads the setting: a PEM file's path, else base64url text."""
    try:
        return Vapid.from_file(value) if os.path.isfile(value) else Vapid.from_string(value)
    except Exception as error:  # py_vapid raises whatever cryptography or base64 raised
        raise VapidKeyError(f"VAPID_PRIVATE_KEY is not a P-256 private key: {type(error).__name__}") from None


def public_key(key: Vapid) -> str:
    return b64url(key.public_key.public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint))


def public_key_of(private: str) -> str:
    return public_key(private_key(private))


def key_pair_file(path: Path) -> str:
    """The public key of the pair kept at ``path``, made there (owner-only, PEM) when missing."""
    if not path.exists():
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two starts at once never write one file twice; the loser reads the winner's key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
    return public_key_of(str(path))


if __name__ == "__main__":
    print(key_pair_file(Path(sys.argv[1])))
