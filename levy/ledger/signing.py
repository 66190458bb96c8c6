"""Signing close records with Ed25519 (the `cryptography` package), and checking them.

The private key is a file: PEM (PKCS8, as `openssl genpkey -algorithm ed25519 -out key.pem` or
`levy-monitor keygen` write it) or its 32 raw bytes. A public key is shown and stored as the hex
of its 32 raw bytes; a public key file may hold those bytes, their hex, or a PEM public key.
Messages name the file and what is wrong with it, never what it holds."""

from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RAW_KEY_BYTES = 32
PEM_MARK = b"-----BEGIN"


class KeyFileError(ValueError):
    """A key file that cannot be read or holds no key of the kind asked for."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return _raw_public(self.key.public_key()).hex()

    def sign(self, message: bytes) -> str:
        return self.key.sign(message).hex()


def load_signer(path: Path) -> Signer:
    data = _read(path)
    wrong = KeyFileError(
        f"{path} is not an Ed25519 private key (PEM PKCS8, as `openssl genpkey -algorithm "
        "ed25519` writes, or its 32 raw bytes)"
    )
    if len(data) == RAW_KEY_BYTES:
        return Signer(Ed25519PrivateKey.from_private_bytes(data))
    if not data.lstrip().startswith(PEM_MARK):
        raise wrong
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise wrong from None
    if not isinstance(key, Ed25519PrivateKey):
        raise wrong
    return Signer(key)


def load_public_key(path: Path) -> str:
    """The hex of the public key in `path`."""
    data = _read(path)
    wrong = KeyFileError(
        f"{path} is not an Ed25519 public key (its 32 raw bytes, their hex, or PEM)"
    )
    if len(data) == RAW_KEY_BYTES:
        return data.hex()
    if data.lstrip().startswith(PEM_MARK):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise wrong from None
        if not isinstance(key, Ed25519PublicKey):
            raise wrong
        return _raw_public(key).hex()
    try:
        raw = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise wrong from None
    if len(raw) != RAW_KEY_BYTES:
        raise wrong
    return raw.hex()


def signature_holds(public_key: str, signature: str, message: bytes) -> bool:
    """Whether `signature` (hex) is `public_key`'s (hex) over `message`; malformed is false."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return True


def new_private_key() -> tuple[bytes, str]:
    """A new key as PEM PKCS8, and its public key's hex."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, Signer(key).public_key
