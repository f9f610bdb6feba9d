"""The village's signing keys: a self-managed CA (or the operator's) and the certificate that signs records.

Files in the key directory (fixed names): ca-cert.pem, ca-key.pem (only for a self-managed CA),
signing-cert.pem, signing-key.pem. Re-exported by approvals/signing.py, which is what callers import.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class KeyPaths:
    """Where the village's key material lives; ca_key is None when the operator keeps the CA key."""

    ca_cert: Path
    ca_key: Path | None
    cert: Path
    key: Path


CA_VALIDITY = dt.timedelta(days=3652)
SIGNING_VALIDITY = dt.timedelta(days=1826)


def key_paths(key_dir: Path) -> KeyPaths:
    """Return the fixed file names inside a key directory (whether or not the files exist)."""
    ca_key = key_dir / "ca-key.pem"
    return KeyPaths(
        key_dir / "ca-cert.pem",
        ca_key if ca_key.exists() else None,
        key_dir / "signing-cert.pem",
        key_dir / "signing-key.pem",
    )


def _new_key(key_type: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """Return a fresh private key: EC P-256 ("ec") or RSA 3072 ("rsa"); raises ValueError otherwise."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unknown key_type {key_type!r}: use 'ec' or 'rsa'")


def _name(common_name: str, village: str) -> x509.Name:
    """Return a subject name in the village's organisation (UTF-8, so Japanese names are kept)."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, village),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue(
    subject: x509.Name,
    public_key: Any,
    issuer: x509.Certificate | None,
    issuer_key: Any,
    days: dt.timedelta,
    *,
    ca: bool,
) -> x509.Certificate:
    """Return a certificate for public_key signed by issuer_key (self-signed when issuer is None).

    No CRL or OCSP URLs are included: nothing can be fetched on the office network, and validation
    therefore has nothing it would be required to fetch.
    """
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock differences
    not_after = now + days
    if issuer is not None:
        not_after = min(not_after, issuer.not_valid_after_utc)
    # A CA only certifies; the signing certificate only signs (nonRepudiation = content_commitment).
    usage = x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    authority = issuer.public_key() if issuer else public_key
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority), critical=False
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Write a PEM file; private keys are created 0600 so they are never readable by others, even briefly."""
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)


def _key_pem(key: Any, passphrase: bytes | None) -> bytes:
    """Return a private key as PKCS#8 PEM, encrypted with passphrase when one is given."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _operator_ca(ca_cert: Path, ca_key: Path, passphrase: bytes | None) -> tuple[x509.Certificate, Any]:
    """Return the operator's CA certificate and key; raises ValueError when they do not belong together."""
    cert = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    key = serialization.load_pem_private_key(Path(ca_key).read_bytes(), password=passphrase)
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ValueError("the CA key does not match the CA certificate")
    return cert, key


def init_keys(
    key_dir: Path,
    *,
    village_name: str = "榛東村",
    ca_cert: Path | None = None,
    ca_key: Path | None = None,
    overwrite: bool = False,
    key_type: str = "rsa",
    passphrase: bytes | None = None,
    ca_key_passphrase: bytes | None = None,
) -> KeyPaths:
    """Create the village's signing key and certificate in key_dir and return their paths.

    Without ca_cert/ca_key a self-managed village CA (10 years) is created beside them; with them, the
    operator's CA issues the signing certificate (5 years, digitalSignature + nonRepudiation) and its key
    is not copied. key_type is "rsa" (3072 bits, the default: read by every PDF viewer) or "ec" (P-256,
    smaller and a little faster). Private keys are written 0600 in a 0700 directory, encrypted when
    passphrase is given and plain otherwise (then file permissions are their only protection).

    Raises FileExistsError when keys exist and overwrite is False, ValueError for a lone ca_cert or
    ca_key, a mismatched CA pair or an unknown key_type.
    """
    key_dir = Path(key_dir)
    if (ca_cert is None) != (ca_key is None):
        raise ValueError("give both ca_cert and ca_key, or neither")
    paths = KeyPaths(
        key_dir / "ca-cert.pem",
        None if ca_cert else key_dir / "ca-key.pem",
        key_dir / "signing-cert.pem",
        key_dir / "signing-key.pem",
    )
    existing = [p for p in (paths.ca_cert, paths.ca_key, paths.cert, paths.key) if p and p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"key material already exists: {', '.join(map(str, existing))}")
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if ca_cert and ca_key:
        issuer, issuer_key = _operator_ca(ca_cert, ca_key, ca_key_passphrase)
        (key_dir / "ca-key.pem").unlink(missing_ok=True)  # a stale self-managed CA key must not linger
    else:
        issuer, issuer_key = _village_ca(village_name, key_type)
        _write(key_dir / "ca-key.pem", _key_pem(issuer_key, passphrase), private=True)
    signing_key = _new_key(key_type)
    subject = _name(f"{village_name} 電子決裁", village_name)
    cert = _issue(subject, signing_key.public_key(), issuer, issuer_key, SIGNING_VALIDITY, ca=False)
    _write(paths.key, _key_pem(signing_key, passphrase), private=True)
    _write(paths.cert, cert.public_bytes(serialization.Encoding.PEM), private=False)
    _write(paths.ca_cert, issuer.public_bytes(serialization.Encoding.PEM), private=False)
    return paths


def _village_ca(village_name: str, key_type: str) -> tuple[x509.Certificate, Any]:
    """Return a new self-signed village CA certificate (10 years) and its key."""
    key = _new_key(key_type)
    subject = _name(f"{village_name} 電子決裁認証局", village_name)
    return _issue(subject, key.public_key(), None, key, CA_VALIDITY, ca=True), key


def organisation_of(cert: asn1_x509.Certificate) -> str:
    """Return the organisation (the village) named in a certificate's subject, or an empty string."""
    return cert.subject.native.get("organization_name") or ""
