"""Documents: PDF (pages, info, text), DOCX (text, core properties) and plain text."""
from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass, field

from media.problems import MediaProblem
from media.textcodec import decode_text

MAX_TEXT_BYTES = 20 * 1024 * 1024  # a plain-text file past this is read only this far


@dataclass(frozen=True)
class DocumentInfo:
    format: str  # pdf, docx, text
    pages: int | None
    text: str
    title: str | None = None
    author: str | None = None
    created: str | None = None
    encoding: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _clip(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[:max_chars]


def _pdf_meta(reader) -> tuple[str | None, str | None, str | None]:  # type: ignore[no-untyped-def]
    try:
        meta = reader.metadata
    except Exception:  # damaged or undecodable /Info: the pages may still be fine
        return None, None, None
    if not meta:
        return None, None, None

    def get(key: str) -> str | None:
        try:
            value = meta.get(key)
            return str(value).strip() or None if value is not None else None
        except Exception as exc:  # one undecodable entry must not lose the others
            logging.getLogger(__name__).debug("PDF info %s unreadable: %s", key, exc)
            return None
    return get("/Title"), get("/Author"), get("/CreationDate")


def read_pdf(path: str | os.PathLike[str], max_chars: int = 2_000_000) -> DocumentInfo:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    warns: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader = PdfReader(os.fspath(path), strict=False)
            except PdfReadError as exc:
                if "startxref" not in str(exc):
                    raise
                # No startxref at all (hand-made or cut PDFs): point it at 0 so that pypdf
                # rebuilds the cross-reference table by scanning the objects.
                with open(path, "rb") as fh:
                    data = fh.read() + b"\nstartxref\n0\n%%EOF\n"
                reader = PdfReader(io.BytesIO(data), strict=False)
                warns.append("cross-reference table missing; recovered by scanning objects")
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")
                except (NotImplementedError, FileNotDecryptedError) as exc:
                    raise MediaProblem("encrypted", f"encrypted PDF: {exc}") from None
                if not ok:
                    raise MediaProblem("encrypted", "encrypted PDF: a password is needed to "
                                                    "read it")
                warns.append("encrypted with an empty user password")
            pages = len(reader.pages)
            title, author, created = _pdf_meta(reader)
            parts: list[str] = []
            total = 0
            for number, page in enumerate(reader.pages, start=1):
                try:
                    chunk = page.extract_text() or ""
                except Exception as exc:  # one bad content stream must not lose the others
                    warns.append(f"page {number}: text unreadable ({type(exc).__name__})")
                    continue
                parts.append(chunk)
                total += len(chunk)
                if total >= max_chars:
                    warns.append(f"text clipped at {max_chars} characters")
                    break
    except MediaProblem:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, AssertionError, OSError, ZeroDivisionError) as exc:
        raise MediaProblem("corrupt", f"damaged PDF: {type(exc).__name__}: {exc}") from None
    if pages == 0:
        raise MediaProblem("corrupt", "the PDF has no pages")
    return DocumentInfo("pdf", pages, _clip("\n".join(parts), max_chars), title, author,
                        created, warnings=tuple(warns))


def read_docx(path: str | os.PathLike[str], max_chars: int = 2_000_000) -> DocumentInfo:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(os.fspath(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise MediaProblem("corrupt", f"damaged DOCX: {exc}") from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    props = document.core_properties
    created = props.created.isoformat() if props.created else None
    return DocumentInfo("docx", None, _clip("\n".join(p for p in parts if p), max_chars),
                        props.title or None, props.author or None, created)


def read_text(path: str | os.PathLike[str], max_chars: int = 2_000_000) -> DocumentInfo:
    with open(path, "rb") as fh:
        data = fh.read(MAX_TEXT_BYTES)
    decoded = decode_text(data)
    return DocumentInfo("text", None, _clip(decoded.text, max_chars), encoding=decoded.encoding)
