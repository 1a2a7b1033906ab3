"""XML signatures on CAP messages (XML-DSig, enveloped, as CAP 1.2 § 3.3.2.1 allows), checked
against certificates Jedel was given out of band, never against the one the message carries.

The message has already been read by the CAP parser, which refuses DTDs and entities on the raw
bytes, so the document read here for the signature is one that parser accepted. It is read again
with a parser just as strict (no DTD loading, no entity expansion, no network, no huge trees), and
signxml is handed that element together with the same parser: signxml serialises the element and
re-reads it for canonicalisation, and without a parser of ours it would use its own default one.

Only a signature over the whole alert counts: one `<Signature>` as a direct child of `<alert>`,
with exactly one `<Reference URI="">` (a signature over some other part of the document, e.g. an
`<Object>` inside the signature itself, would prove nothing about the alert's content).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from lxml import etree
from signxml.exceptions import SignXMLException
from signxml.verifier import SignatureConfiguration, XMLVerifier

from services.intake.cap.parser import utf8_document

DSIG_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE: Final = f"{{{DSIG_NAMESPACE}}}Signature"
_REFERENCE: Final = f"{{{DSIG_NAMESPACE}}}Reference"
_REASON_MAX_CHARS: Final = 200


class BadSignature(Exception):  # noqa: N818 - a verdict on the message, like `Rejected`
    """The signature is there but does not prove the message: `reason` says why, for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def safe_parser() -> etree.XMLParser:
    """As strict as the CAP parser's, but comments and processing instructions are kept: a
    signature made "#WithComments" covers them, and dropping them would break a good signature."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )


def load_certificates(text: bytes) -> tuple[x509.Certificate, ...]:
    """Every PEM certificate in `text` (a file may hold several: a key being rolled over)."""
    return tuple(x509.load_pem_x509_certificates(text))


def load_certificate_file(path: Path) -> tuple[x509.Certificate, ...]:
    return load_certificates(path.read_bytes())


@dataclass(frozen=True)
class EnvelopedSignature:
    """A `<Signature>` found in a message, to be checked against a sender's certificates."""

    document: etree._Element
    # The intake's clock: certificates must be valid then (not the machine's clock, not `<sent>`).
    at: datetime

    def verify(self, certificates: Sequence[x509.Certificate]) -> x509.Certificate:
        """The certificate that verifies the signature; `BadSignature` when none does."""
        if not certificates:
            raise BadSignature("no certificate is registered to check it against")
        failures: list[str] = []
        for certificate in certificates:
            try:
                self._verify_with(certificate)
            except (SignXMLException, etree.LxmlError, ValueError) as error:
                failures.append(_describe(error))
                continue
            return certificate
        raise _bad(failures)

    def _verify_with(self, certificate: x509.Certificate) -> None:
        parser = safe_parser()
        result = XMLVerifier().verify(
            self.document,
            x509_cert=certificate,
            parser=parser,
            expect_config=SignatureConfiguration(
                location="./", expect_references=1, verification_time=self.at
            ),
        )
        if isinstance(result, list):  # never with expect_references=1; mypy cannot know
            raise BadSignature("the signature must have exactly one reference")
        uris = [ref.get("URI") for ref in result.signature_xml.iter(_REFERENCE)]
        if uris != [""]:
            raise BadSignature(
                'the signature does not cover the whole alert (its reference must be URI="")'
            )
        signed = result.signed_xml
        if signed is None or etree.QName(signed).localname != "alert":
            raise BadSignature("the signed content is not the <alert>")


@dataclass(frozen=True)
class UnreadableSignature:
    """A signature that cannot even be checked (misplaced, or the document unreadable): it fails
    whenever it is verified, and is ignored where nothing would be verified anyway."""

    reason: str

    def verify(self, certificates: Sequence[x509.Certificate]) -> x509.Certificate:
        raise BadSignature(self.reason)


def find_signature(
    document: etree._Element, *, at: datetime
) -> EnvelopedSignature | UnreadableSignature | None:
    """The alert's enveloped signature, or None when it has none. A `<Signature>` anywhere but
    directly under `<alert>` is not one Jedel could trust: it never verifies."""
    if document.find(_SIGNATURE) is not None:
        return EnvelopedSignature(document, at)
    if next(document.iter(_SIGNATURE), None) is not None:
        return UnreadableSignature("the <Signature> must be a direct child of <alert> (enveloped)")
    return None


def read_signature(data: bytes, *, at: datetime) -> EnvelopedSignature | UnreadableSignature | None:
    """The enveloped signature of a message the CAP parser has already accepted, or None.

    It is read as the CAP parser read it, as UTF-8 (`utf8_document`); canonicalisation does not
    depend on the encoding, so a signature made over windows-1251 checks the same. Messages
    without the word `Signature` in them are not parsed again: an XML element's name cannot be
    hidden behind a character reference, so such a message has no signature element.
    """
    data = utf8_document(data)
    if b"Signature" not in data:
        return None
    try:
        document = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as error:
        return UnreadableSignature(f"the message could not be read again to check it: {error}")
    docinfo = document.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return UnreadableSignature("a document type declaration is refused")
    return find_signature(document, at=at)


def _describe(error: Exception) -> str:
    reason = " ".join(str(error).split()) or type(error).__name__
    return reason if len(reason) <= _REASON_MAX_CHARS else reason[: _REASON_MAX_CHARS - 1] + "…"


def _bad(failures: list[str]) -> BadSignature:
    unique = list(dict.fromkeys(failures))
    if len(unique) == 1:
        return BadSignature(unique[0])
    return BadSignature("; ".join(f"certificate {n}: {why}" for n, why in enumerate(unique, 1)))
