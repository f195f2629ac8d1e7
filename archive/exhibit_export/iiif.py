"""A IIIF Presentation 3 manifest of the exhibit, built and validated by iiif-prezi3: one canvas
per image, page, recording or video, in exhibit order, with a range per section."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from archive.exhibit_export.rows import ExhibitExport, ObjectRow
from archive.fields import MAIN_ROLES, TYPE_LABELS
from archive.names import has_han

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
_A4 = (1189, 841)  # height, width of a canvas standing for a PDF page without an image


def _label(text: str) -> dict[str, list[str]]:
    return {"zh" if has_han(text) else "en": [text]}


def _pair(zh: str, en: str, value: str) -> dict[str, dict[str, list[str]]]:
    return {"label": {"zh": [zh], "en": [en]}, "value": _label(value)}


def _file_url(base: str, row: ObjectRow, path: str) -> str:
    return f"{base}/items/{quote(row.accession)}/files/{quote(path)}"


def build_manifest(export: ExhibitExport, base_url: str = DEFAULT_BASE_URL):  # type: ignore[no-untyped-def]
    from iiif_prezi3 import CanvasRef, Manifest
    base = base_url.rstrip("/")
    root = f"{base}/exhibits/{quote(export.slug)}"
    manifest = Manifest(id=f"{root}/manifest.json", label=_label(export.title))
    if export.description:
        manifest.summary = _label(export.description)
    sections: dict[str | None, list[str]] = {}
    n = 0
    for row in export.rows:
        zh, en = TYPE_LABELS.get(row.type, (row.type, row.type))
        metadata = [_pair("档号", "Accession number", row.accession),
                    {"label": {"zh": ["类型"], "en": ["Type"]},
                     "value": {"zh": [zh], "en": [en]}}]
        for zh, en, value in (("科学家", "Scientist", row.scientist), ("日期", "Date", row.date),
                              ("说明", "Caption", row.caption),
                              ("规格", "Extent", row.extent)):
            if value:
                metadata.append(_pair(zh, en, value))
        for f in row.files:
            if f.role not in MAIN_ROLES:
                continue
            url = _file_url(base, row, f.path)
            kinds: list[tuple[str, int | None, int | None, float | None]] = []
            if (f.mime or "").startswith("image/") and f.width and f.height:
                kinds.append(("Image", f.height, f.width, None))
            elif (f.mime or "").startswith(("audio/", "video/")) and f.duration:
                kind = "Video" if row.type == "video" else "Sound"
                kinds.append((kind, f.height if kind == "Video" else None,
                              f.width if kind == "Video" else None, f.duration))
            elif f.mime == "application/pdf" and f.pages:
                kinds += [("Page", _A4[0], _A4[1], None)] * f.pages
            for page, (kind, height, width, duration) in enumerate(kinds, start=1):
                n += 1
                label = row.title if len(kinds) == 1 else f"{row.title} ({page})"
                canvas = manifest.make_canvas(id=f"{root}/canvas/{n}", label=_label(label),
                                              height=height, width=width, duration=duration)
                canvas.metadata = metadata
                if kind == "Image":
                    canvas.add_image(image_url=url, anno_page_id=f"{root}/page/{n}",
                                     anno_id=f"{root}/annotation/{n}", format=f.mime,
                                     height=height, width=width)
                elif kind in ("Sound", "Video"):
                    body: dict[str, object] = {"id": url, "type": kind, "format": f.mime,
                                               "duration": duration}
                    if kind == "Video":
                        body.update(height=height, width=width)
                    canvas.add_item({"id": f"{root}/page/{n}", "type": "AnnotationPage",
                                     "items": [{"id": f"{root}/annotation/{n}",
                                                "type": "Annotation", "motivation": "painting",
                                                "body": body, "target": canvas.id}]})
                else:
                    canvas.rendering = [{"id": url, "type": "Text", "format": f.mime,
                                         "label": _label(f"{row.title} (PDF)")}]
                sections.setdefault(row.section, []).append(canvas.id)
    for number, (section, canvases) in enumerate(sections.items(), start=1):
        if section:
            manifest.make_range(id=f"{root}/range/{number}", label=_label(section),
                                items=[CanvasRef(id=c, type="Canvas") for c in canvases])
    return manifest


def write_manifest(export: ExhibitExport, path: Path, base_url: str = DEFAULT_BASE_URL) -> None:
    path.write_text(build_manifest(export, base_url).json(indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")
