"""PAdES signatures on approved records: the village's keys, signing with pyHanko, and verification.

The village runs its own small CA (unless the operator brings one): ``init_keys`` creates the CA and a
signing certificate issued by it, ``sign_pdf`` certifies a 起案用紙 (PAdES B-B, no timestamp server, no
network), and ``verify_pdf`` answers one question for staff: is this exactly the PDF the village signed?

What counts as valid: the signature is cryptographically intact, chains to the village CA, covers the
entire file, and nothing at all was appended after it. Any later incremental update — even one pyHanko
would grade as harmless (form filling, LTA data) — is reported invalid, because an approved record must
never change after 決裁. Revocation is not checked: the village CA publishes no CRL/OCSP and the office
network has no internet, so validation runs with fetching disabled in 'soft-fail' mode.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import cms, pem
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from approvals.pdf import INFO_DOCUMENT_NUMBER, INFO_REQUEST_ID
from approvals.signing_keys import KeyPaths, init_keys, key_paths, organisation_of
from workspace.calendar import to_jst, wareki

__all__ = ["KeyPaths", "VerificationResult", "init_keys", "load_signer", "sign_pdf", "verify_pdf"]

log = logging.getLogger(__name__)
SIGNATURE_FIELD = "VillageApproval"
T = TypeVar("T")


@dataclass(frozen=True)
class VerificationResult:
    """The answer of verify_pdf. valid is the only verdict; the other flags say what went wrong.

    request_id and document_number are read from the signed revision's /Info when a signature is
    present (otherwise from the file's /Info): they say which request the PDF claims to record, and
    can be trusted only when valid is True.
    """

    valid: bool
    intact: bool
    trusted: bool
    signer: str | None
    signed_at: dt.datetime | None
    request_id: int | None
    document_number: str | None
    reason_ja: str


class VillageSigner(signers.SimpleSigner):
    """A pyHanko SimpleSigner that keeps its private key parsed between signatures.

    SimpleSigner re-parses the key on every signature, and for RSA 3072 cryptography's consistency
    check then costs ~170 ms per call (two calls per PDF) — far more than rendering and signing.
    """

    def __init__(self, *args: Any, pyca_key: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pyca_key = pyca_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Return the raw signature of data (PKCS#1 v1.5 or ECDSA with the cached key; others as pyHanko)."""
        try:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:  # a mechanism asn1crypto cannot name: leave it to pyHanko
            return super().sign_raw(data, digest_algorithm)
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(self._pyca_key, ec.EllipticCurvePrivateKey):
            return self._pyca_key.sign(data, ec.ECDSA(hash_algo))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._pyca_key, rsa.RSAPrivateKey):
            return self._pyca_key.sign(data, PKCS1v15(), hash_algo)
        return super().sign_raw(data, digest_algorithm)


def load_signer(key_dir: Path, *, passphrase: bytes | None = None) -> VillageSigner:
    """Return a pyHanko signer for the key and certificate in key_dir (the CA certificate is embedded).

    Raises FileNotFoundError when the files are missing, TypeError when the key is encrypted and no
    passphrase is given, ValueError for a wrong passphrase or an unreadable file.
    """
    paths = key_paths(Path(key_dir))
    for path in (paths.key, paths.cert, paths.ca_cert):
        if not path.is_file():
            raise FileNotFoundError(f"signing key material missing: {path} (run `workspace keys init`)")
    pyca_key = serialization.load_pem_private_key(paths.key.read_bytes(), password=passphrase)
    der = pyca_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    registry = SimpleCertificateStore()
    registry.register(_load_cert(paths.ca_cert))
    return VillageSigner(
        signing_cert=_load_cert(paths.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=registry,
        pyca_key=pyca_key,
    )


def _run(function: Callable[[], T]) -> T:
    """Return function(); in a worker thread when an asyncio loop is running here.

    pyHanko's synchronous API calls asyncio.run(), which refuses to run inside a running loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    if not running:
        return function()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def sign_pdf(
    pdf_bytes: bytes,
    signer: signers.Signer,
    *,
    reason: str = "決裁",
    location: str | None = None,
    name: str | None = None,
) -> bytes:
    """Return pdf_bytes with a PAdES B-B certification signature appended as an incremental update.

    The signature certifies the document with "no changes allowed" (DocMDP level 1), so PDF readers too
    report any later change. location defaults to the organisation (village) in the signing certificate.
    Raises pyHanko's PdfError/SigningError for a PDF it cannot sign.
    """
    cert_org = organisation_of(signer.signing_cert)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        reason=reason,
        location=location if location is not None else cert_org,
        name=name,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = io.BytesIO()
    reserved = _reserve_for(signer)
    _run(
        lambda: signers.PdfSigner(meta, signer=signer).sign_pdf(
            writer, bytes_reserved=reserved, output=output
        )
    )
    return output.getvalue()


def _reserve_for(signer: signers.Signer) -> int:
    """Return the bytes to reserve for the CMS signature: the embedded certificates plus a margin.

    Given explicitly, it spares pyHanko a dry-run signature to estimate the size (about half the
    signing time); 4 KiB covers the signature value (≤ 384 bytes for RSA 3072) and the CMS attributes.
    """
    size = sum(len(cert.dump()) for cert in [signer.signing_cert, *signer.cert_registry]) + 4096
    return size + size % 2  # pyHanko wants an even number


def load_trust_roots(key_dir_or_trust_roots: Path | str | Sequence[Any]) -> list[asn1_x509.Certificate]:
    """Return the trust roots: the village CA certificate of a key directory, or the given certificates.

    Accepts a key directory, or a sequence of PEM/DER paths and/or asn1crypto certificates.
    Raises FileNotFoundError when the key directory holds no CA certificate.
    """
    if isinstance(key_dir_or_trust_roots, (str, Path)):
        ca_path = key_paths(Path(key_dir_or_trust_roots)).ca_cert
        if not ca_path.is_file():
            raise FileNotFoundError(f"village CA certificate missing: {ca_path} (run `workspace keys init`)")
        key_dir_or_trust_roots = [ca_path]
    return [
        item if isinstance(item, asn1_x509.Certificate) else _load_cert(Path(item))
        for item in key_dir_or_trust_roots
    ]


def _load_cert(path: Path) -> asn1_x509.Certificate:
    """Return the certificate in a PEM or DER file."""
    data = path.read_bytes()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_x509.Certificate.load(data)


def _invalid(reason: str, **found: Any) -> VerificationResult:
    """Return an invalid result with a reason; found may fill in what was learnt before failing."""
    fields: dict[str, Any] = {
        "valid": False,
        "intact": False,
        "trusted": False,
        "signer": None,
        "signed_at": None,
        "request_id": None,
        "document_number": None,
    }
    fields.update(found)
    return VerificationResult(reason_ja=reason, **fields)


def verify_pdf(pdf_bytes: bytes, key_dir_or_trust_roots: Path | str | Sequence[Any]) -> VerificationResult:
    """Return whether pdf_bytes is a record signed by the village and unchanged since, and which request.

    Never raises on bad input: unreadable or unsigned files are reported invalid with a Japanese reason.
    Raises FileNotFoundError only when the trust roots themselves are missing (a configuration error).
    """
    roots = load_trust_roots(key_dir_or_trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    except Exception as exc:  # any parse failure means "not a PDF we can check"
        log.info("verify: unreadable PDF: %s", exc)
        return _invalid("PDFとして読み取れません。ファイルが壊れているか、PDFではありません。")
    try:
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # e.g. a /Contents that no longer parses as CMS
        log.info("verify: signature unreadable: %s", exc)
        return _invalid(
            "電子署名を読み取れません（署名データが壊れているか、改変されています）。",
            **_claims(reader, None),
        )
    if not signatures:
        return _invalid("電子署名がありません（署名されていないPDFです）。", **_claims(reader, None))
    try:
        return _verify_signatures(pdf_bytes, reader, signatures, roots)
    except Exception as exc:  # a malformed signature must read as invalid, not crash
        log.info("verify: signature could not be evaluated: %s", exc)
        return _invalid("電子署名を検証できません（署名データが壊れています）。", **_claims(reader, None))


def _verify_signatures(
    pdf_bytes: bytes, reader: PdfFileReader, signatures: list[Any], roots: list[asn1_x509.Certificate]
) -> VerificationResult:
    """Return the verdict over every signature; the last one must also cover the whole file."""
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    statuses = [_run(lambda sig=sig: validate_pdf_signature(sig, context)) for sig in signatures]
    last, status = signatures[-1], statuses[-1]
    found = {
        "intact": all(s.intact for s in statuses),
        "trusted": all(s.trusted for s in statuses),
        "signer": _signer_name(status),
        "signed_at": to_jst(status.signer_reported_dt) if status.signer_reported_dt else None,
        **_claims(reader, last),
    }
    problem = _problem(pdf_bytes, signatures, statuses)
    if problem:
        return _invalid(problem, **found)
    signed_at = found["signed_at"]
    when = f"{wareki(signed_at.date())} {signed_at:%H:%M}" if signed_at else "不明"  # already JST
    reason = f"有効な電子署名です。署名者: {found['signer']}、署名日時: {when}。署名後の変更はありません。"
    return VerificationResult(valid=True, reason_ja=reason, **found)


def _problem(pdf_bytes: bytes, signatures: list[Any], statuses: list[PdfSignatureStatus]) -> str | None:
    """Return the Japanese reason the signatures are not valid, or None when they are."""
    for sig, status in zip(signatures, statuses, strict=True):
        if not status.intact:
            return "署名後に文書の内容が改変されています（署名されたデータのハッシュ値が一致しません）。"
        if not status.valid:
            return "署名値が正しくありません（署名が壊れているか、別の鍵で作られています）。"
        if not status.trusted:
            return "署名者の証明書を村の認証局で検証できません。村が署名したPDFではありません。"
        if not _contents_untouched(pdf_bytes, sig) or not _cms_unsigned_parts_untouched(sig, status):
            return "署名データの領域が改変されています。"
    status = statuses[-1]
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        level = status.modification_level.name if status.modification_level else "UNKNOWN"
        return f"署名後に変更が追記されています（変更の程度: {level}）。決裁後の文書は変更できません。"
    if not status.bottom_line:
        return "署名の検証条件を満たしていません（文書の変更制限に違反しています）。"
    return None


def _contents_untouched(pdf_bytes: bytes, sig: Any) -> bool:
    """Return True when the unsigned gap of the ByteRange holds exactly the signature as pyHanko wrote it.

    The gap is not covered by the digest, and the CMS parser is lenient: it ignores the zero padding
    after the DER object, hex digits may change case, and a length byte may grow into the padding.
    So the gap must be the upper-case hex pyHanko writes, the DER must re-encode to itself, and the
    padding must be all zeros.
    """
    _, len1, start2, _ = (int(x) for x in sig.byte_range)
    contents = sig.pkcs7_content
    der = cms.ContentInfo.load(contents).dump()
    canonical = cms.ContentInfo.load(der).dump(force=True)
    expected = b"<" + contents.hex().upper().encode("ascii") + b">"
    return pdf_bytes[len1:start2] == expected and der == canonical and not any(contents[len(der) :])


def _cms_unsigned_parts_untouched(sig: Any, status: PdfSignatureStatus) -> bool:
    """Return True when the parts of the CMS object that its signature does not cover are as signed.

    The embedded certificates, the digest algorithm list and the version fields sit outside the signed
    attributes: a flipped byte in the embedded CA certificate, say, would not disturb validation (the
    trust root comes from our own configuration). So every embedded certificate must be one of the
    validated path, byte for byte, and the rest must be exactly what a PAdES B-B signature holds.
    """
    signed_data, signer_info = sig.signed_data, sig.signer_info
    path = status.validation_path
    validated = {cert.dump() for cert in path.iter_certs(include_root=True)} if path else set()
    embedded = [choice.chosen.dump() for choice in signed_data["certificates"]]
    digests = [algo.dump() for algo in signed_data["digest_algorithms"]]
    return (
        all(cert in validated for cert in embedded)
        and digests == [signer_info["digest_algorithm"].dump()]
        and signed_data["version"].native == "v1"
        and signer_info["version"].native == "v1"
        and signed_data["encap_content_info"]["content"].native is None
        and not signed_data["crls"].native
        and not signer_info["unsigned_attrs"].native
    )


def _signer_name(status: PdfSignatureStatus) -> str | None:
    """Return the signer certificate's common name (or its whole subject when it has none)."""
    subject = status.signing_cert.subject
    return subject.native.get("common_name") or subject.human_friendly


def _claims(reader: PdfFileReader, sig: Any) -> dict[str, Any]:
    """Return request_id and document_number from /Info: the signed revision's when there is a signature."""
    try:
        trailer = (
            reader.get_historical_resolver(sig.signed_revision).trailer_view if sig else reader.trailer_view
        )
        info = trailer["/Info"].get_object()
        raw_id = str(info.get(f"/{INFO_REQUEST_ID}", "")).strip()
        number = str(info.get(f"/{INFO_DOCUMENT_NUMBER}", "")).strip()
        return {"request_id": int(raw_id) if raw_id.isdigit() else None, "document_number": number or None}
    except Exception:  # a missing or odd /Info only means we cannot say which request
        return {"request_id": None, "document_number": None}
