"""PAdES signing of approved records and verification with pyHanko's validator (offline, village CA).

Rule under test: a record is valid only when it is exactly what the village signed. Any changed byte,
anywhere, and any update appended after the signature make it invalid.
"""

from __future__ import annotations

import asyncio
import io
import stat
from pathlib import Path

import pytest
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from approvals.pdf import render_record
from approvals.signing import init_keys, load_signer, sign_pdf, verify_pdf
from tests.approvals.test_pdf import pdftotext, sample_sheet


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key_dir = tmp_path_factory.mktemp("village-keys")
    init_keys(key_dir)
    return key_dir


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_record(sample_sheet())


@pytest.fixture(scope="module")
def signed(keys: Path, unsigned: bytes) -> bytes:
    return sign_pdf(unsigned, load_signer(keys))


def flipped(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def signature_gap(data: bytes) -> tuple[int, int]:
    """Return the (start, end) of the /Contents hex string, the only bytes outside the ByteRange."""
    start = data.rindex(b"/Contents <") + len(b"/Contents ")
    return start, data.index(b">", start) + 1


def appended_update(signed_pdf: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_signed_record_is_valid_and_names_its_request(keys: Path, signed: bytes) -> None:
    """Is a freshly signed record valid, trusted, and traced back to request 42 / 榛総第123号?"""
    result = verify_pdf(signed, keys)
    assert result.valid and result.intact and result.trusted, result.reason_ja
    assert result.request_id == 42
    assert result.document_number == "榛総第123号"
    assert result.signer == "榛東村 電子決裁"
    assert result.signed_at is not None and result.signed_at.utcoffset().total_seconds() == 9 * 3600
    assert "有効" in result.reason_ja


def test_signed_record_still_reads_with_pdftotext(tmp_path: Path, signed: bytes) -> None:
    """Does signing keep the record's text extractable?"""
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    assert "榛総第123号" in pdftotext(path)


def test_trust_roots_can_be_given_as_certificate_files(keys: Path, signed: bytes) -> None:
    """Can verify take the CA certificate path instead of the key directory?"""
    assert verify_pdf(signed, [keys / "ca-cert.pem"]).valid


def test_unsigned_pdf_is_invalid(keys: Path, unsigned: bytes) -> None:
    """Is an unsigned record reported invalid, with a reason, yet still named?"""
    result = verify_pdf(unsigned, keys)
    assert not result.valid
    assert "署名がありません" in result.reason_ja
    assert result.request_id == 42


def test_one_byte_flipped_inside_the_signed_range_is_invalid(keys: Path, signed: bytes) -> None:
    """Does changing one byte of the signed content break the signature?"""
    start, _ = signature_gap(signed)
    for index in (100, start // 2, start - 5, len(signed) - 200):
        result = verify_pdf(flipped(signed, index), keys)
        assert not result.valid, index
        assert result.reason_ja


def test_bytes_of_the_signature_itself_cannot_be_changed(keys: Path, signed: bytes) -> None:
    """Is a change inside /Contents — the signature value or its zero padding — also invalid?"""
    start, end = signature_gap(signed)
    for index in (start + 1, start + 40, start + 800, end - 10, end - 2):
        assert not verify_pdf(flipped(signed, index), keys).valid, index
    lowered = signed[: start + 1] + signed[start + 1 : end - 1].lower() + signed[end - 1 :]
    assert lowered != signed
    assert not verify_pdf(lowered, keys).valid  # same bytes once decoded, still a changed file


def test_any_changed_byte_anywhere_is_invalid_and_never_raises(keys: Path, signed: bytes) -> None:
    """Is every sampled one-byte change reported invalid: ~80 over the file, ~80 inside the signature?

    The signature blob has unsigned parts (embedded certificates, lengths, padding) that pyHanko alone
    would not notice; verify_pdf checks them too.
    """
    start, end = signature_gap(signed)
    spread = range(0, len(signed), max(1, len(signed) // 80))
    inside = range(start, end, max(1, (end - start) // 80))
    positions = sorted({*spread, *inside, len(signed) - 1})
    still_valid = [i for i in positions if verify_pdf(flipped(signed, i), keys).valid]
    assert still_valid == []


def test_appended_incremental_update_changing_content_is_invalid(keys: Path, signed: bytes) -> None:
    """Is a record with a page content stream added after signing invalid, naming the change?"""

    def paint_over(writer: IncrementalPdfFileWriter) -> None:
        stream = writer.add_object(generic.StreamObject(stream_data=b"1 1 1 rg 60 600 300 80 re f"))
        writer.add_stream_to_page(0, stream)

    result = verify_pdf(appended_update(signed, paint_over), keys)
    assert not result.valid
    assert result.intact  # the signed revision itself is untouched …
    assert "追記" in result.reason_ja  # … but something was added after it


def test_appended_update_cannot_change_which_request_it_is(keys: Path, signed: bytes) -> None:
    """Is an /Info rewritten after signing invalid, and is the signed request id still reported?"""

    def relabel(writer: IncrementalPdfFileWriter) -> None:
        info = generic.DictionaryObject(
            {
                generic.NameObject("/Title"): generic.TextStringObject("改ざん"),
                generic.NameObject("/WorkspaceRequestId"): generic.TextStringObject("99"),
            }
        )
        writer.set_info(writer.add_object(info))

    result = verify_pdf(appended_update(signed, relabel), keys)
    assert not result.valid
    assert result.request_id == 42


def test_bytes_appended_after_the_signature_are_invalid(keys: Path, signed: bytes) -> None:
    """Is even a harmless-looking trailing comment after %%EOF treated as a change?"""
    result = verify_pdf(signed + b"\n% note\n", keys)
    assert not result.valid and "追記" in result.reason_ja


def test_pdf_signed_by_another_ca_is_untrusted(tmp_path: Path, keys: Path, unsigned: bytes) -> None:
    """Is a record signed with a key from another CA (even one calling itself 榛東村) untrusted?"""
    init_keys(tmp_path / "impostor", key_type="ec")
    forged = sign_pdf(unsigned, load_signer(tmp_path / "impostor"))
    assert verify_pdf(forged, tmp_path / "impostor").valid  # fine for its own CA …
    result = verify_pdf(forged, keys)  # … not for the village's
    assert not result.valid and not result.trusted
    assert result.intact
    assert "認証局" in result.reason_ja


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"garbage",
        b"%PDF-1.7\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
        bytes(range(256)) * 8,
    ],
)
def test_garbage_is_invalid_without_exception(keys: Path, garbage: bytes) -> None:
    """Does verify answer invalid with a reason for bytes that are not a PDF?"""
    result = verify_pdf(garbage, keys)
    assert not result.valid and result.reason_ja and result.request_id is None


def test_truncated_signed_pdf_is_invalid(keys: Path, signed: bytes) -> None:
    """Is a cut-off download invalid rather than an error?"""
    for length in (len(signed) // 2, len(signed) - 30):
        assert not verify_pdf(signed[:length], keys).valid


def test_verify_works_inside_a_running_event_loop(keys: Path, signed: bytes) -> None:
    """Can verify be called from async code (pyHanko's sync API would otherwise refuse)?"""

    async def call() -> bool:
        return verify_pdf(signed, keys).valid

    assert asyncio.run(call())


def test_init_keys_writes_private_keys_0600_and_sets_key_usage(tmp_path: Path) -> None:
    """Are private keys owner-only, and does the certificate allow signing with non-repudiation only?"""
    paths = init_keys(tmp_path / "keys", key_type="ec")
    for key in (paths.key, paths.ca_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    ca = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    years = (ca.not_valid_after_utc - ca.not_valid_before_utc).days / 365.25
    assert 9.9 < years < 10.1
    assert cert.issuer == ca.subject


def test_init_keys_refuses_to_overwrite(tmp_path: Path) -> None:
    """Are existing keys kept unless overwrite=True?"""
    init_keys(tmp_path, key_type="ec")
    with pytest.raises(FileExistsError):
        init_keys(tmp_path, key_type="ec")
    init_keys(tmp_path, key_type="ec", overwrite=True)


def test_operator_supplied_ca_issues_the_signing_certificate(tmp_path: Path, unsigned: bytes) -> None:
    """With the operator's CA, is the signing cert issued by it, and its key not copied?"""
    operator = init_keys(tmp_path / "operator", village_name="群馬県", key_type="ec")
    paths = init_keys(tmp_path / "village", ca_cert=operator.ca_cert, ca_key=operator.ca_key, key_type="ec")
    assert paths.ca_key is None and not (tmp_path / "village" / "ca-key.pem").exists()
    signed_pdf = sign_pdf(unsigned, load_signer(tmp_path / "village"))
    assert verify_pdf(signed_pdf, [operator.ca_cert]).valid
    with pytest.raises(ValueError):
        init_keys(tmp_path / "half", ca_cert=operator.ca_cert)


def test_encrypted_key_needs_its_passphrase(tmp_path: Path, unsigned: bytes) -> None:
    """Is a passphrase-protected key usable with the passphrase and refused without it?"""
    init_keys(tmp_path, key_type="ec", passphrase=b"correct horse")
    with pytest.raises(TypeError):
        load_signer(tmp_path)
    with pytest.raises(ValueError):
        load_signer(tmp_path, passphrase=b"wrong")
    assert verify_pdf(sign_pdf(unsigned, load_signer(tmp_path, passphrase=b"correct horse")), tmp_path).valid


def test_missing_keys_are_a_clear_error(tmp_path: Path) -> None:
    """Does a missing key directory raise FileNotFoundError (a setup problem, not an invalid PDF)?"""
    with pytest.raises(FileNotFoundError):
        load_signer(tmp_path / "none")
    with pytest.raises(FileNotFoundError):
        verify_pdf(b"%PDF", tmp_path / "none")
