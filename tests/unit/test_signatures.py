"""XML signatures on CAP: a throwaway key and self-signed certificate made here, a fixture signed
with signxml, then verified, tampered with, and checked against the wrong certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.algorithms import SignatureConstructionMethod, SignatureMethod
from signxml.signer import XMLSigner

from services.intake.cap import parse_cap
from services.intake.signatures import (
    BadSignature,
    EnvelopedSignature,
    UnreadableSignature,
    read_signature,
)
from tests.factories import CAP

NOW = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)
EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def self_signed(
    common_name: str,
    *,
    valid_from: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    valid_for: timedelta = timedelta(days=365 * 20),
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, str]:
    """A fresh P-256 key and a self-signed certificate for it (and the certificate as PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + valid_for)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return key, certificate, pem


def sign(
    data: bytes,
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    *,
    c14n: str = EXCLUSIVE_C14N,
) -> bytes:
    """`data` with an enveloped XML-DSig signature as the last child of `<alert>`."""
    signed = XMLSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256, c14n_algorithm=c14n).sign(
        etree.fromstring(data), key=key, cert=[certificate]
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def signer() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key, certificate, _ = self_signed("Kostanay DES")
    return key, certificate


@pytest.fixture(scope="module")
def signed(signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]) -> bytes:
    return sign((CAP / "flood_kostanay_12.xml").read_bytes(), *signer)


def signature_of(data: bytes) -> EnvelopedSignature | UnreadableSignature:
    found = read_signature(data, at=NOW)
    assert found is not None
    return found


def test_a_signed_alert_is_still_valid_cap(signed: bytes) -> None:
    assert parse_cap(signed).identifier == "KZ-TZhM-KST-2026-0402-001"


def test_a_signed_alert_verifies_against_its_certificate(
    signed: bytes, signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> None:
    _, certificate = signer
    assert signature_of(signed).verify([certificate]) == certificate


def test_a_changed_headline_fails(
    signed: bytes, signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> None:
    tampered = signed.replace(b"<headline>", b"<headline>FALSE ALARM: ", 1)
    assert tampered != signed
    with pytest.raises(BadSignature, match="Digest mismatch"):
        signature_of(tampered).verify([signer[1]])


def test_another_certificate_fails_even_with_the_signers_certificate_inside(
    signed: bytes,
) -> None:
    _, stranger, _ = self_signed("Kostanay DES")  # the same name, another key
    with pytest.raises(BadSignature):
        signature_of(signed).verify([stranger])


def test_one_of_several_certificates_is_enough(
    signed: bytes, signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> None:
    _, old, _ = self_signed("Kostanay DES (old key)")
    assert signature_of(signed).verify([old, signer[1]]) == signer[1]


def test_no_certificate_verifies_nothing(signed: bytes) -> None:
    with pytest.raises(BadSignature, match="no certificate"):
        signature_of(signed).verify([])


def test_an_unsigned_alert_has_no_signature() -> None:
    assert read_signature((CAP / "flood_kostanay_12.xml").read_bytes(), at=NOW) is None


def test_a_certificate_not_valid_on_the_intakes_clock_fails() -> None:
    key, certificate, _ = self_signed(
        "expired", valid_from=datetime(2020, 1, 1, tzinfo=UTC), valid_for=timedelta(days=30)
    )
    data = sign((CAP / "flood_kostanay_12.xml").read_bytes(), key, certificate)
    with pytest.raises(BadSignature, match="valid"):
        signature_of(data).verify([certificate])
    still = read_signature(data, at=datetime(2020, 1, 15, tzinfo=UTC))
    assert still is not None and still.verify([certificate]) == certificate


def test_a_signature_with_comments_verifies_with_its_comments(
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    data = (
        (CAP / "flood_kostanay_12.xml")
        .read_bytes()
        .replace(b"<status>", b"<!-- checked by the duty officer --><status>", 1)
    )
    signed = sign(
        data, *signer, c14n="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
    )
    assert signature_of(signed).verify([signer[1]]) == signer[1]
    with pytest.raises(BadSignature):
        signature_of(signed.replace(b"duty officer", b"nobody")).verify([signer[1]])


def test_a_signature_over_something_else_than_the_alert_fails(
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    """Sign only an element with an Id, then move the signature under <alert>: the signature is
    valid for what it covers, which is not the alert."""
    key, certificate = signer
    fragment = etree.fromstring(b'<note xmlns="urn:x" Id="part">harmless</note>')
    enveloping = XMLSigner(
        method=SignatureConstructionMethod.enveloping,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        c14n_algorithm=EXCLUSIVE_C14N,
    ).sign(fragment, key=key, cert=[certificate])
    alert = etree.fromstring((CAP / "flood_kostanay_12.xml").read_bytes())
    alert.append(enveloping)
    data = etree.tostring(alert, xml_declaration=True, encoding="UTF-8")
    with pytest.raises(BadSignature, match="whole alert"):
        signature_of(data).verify([certificate])


def test_a_signature_nested_inside_the_alert_is_refused(
    signed: bytes, signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
) -> None:
    alert = etree.fromstring(signed)
    signature = alert[-1]
    alert.remove(signature)
    alert.find("{urn:oasis:names:tc:emergency:cap:1.2}info").append(signature)  # type: ignore[union-attr]
    found = signature_of(etree.tostring(alert))
    assert isinstance(found, UnreadableSignature)
    with pytest.raises(BadSignature, match="direct child"):
        found.verify([signer[1]])


def test_entities_are_never_expanded_while_checking(
    signer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
) -> None:
    """The CAP parser refuses DTDs first; should anything reach this code with one, it is refused
    too, and nothing is read from the file system."""
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&x;</note>'
        b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></alert>'
    )
    found = signature_of(hostile)
    assert isinstance(found, UnreadableSignature)
    with pytest.raises(BadSignature, match="document type"):
        found.verify([signer[1]])
