"""A printable catalogue: a self-contained folder (index.html and images/) that opens offline,
laid out for A4. Every value is escaped; the page carries no script and forbids any."""
from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

from archive.exhibit_export.rows import ExhibitExport, ObjectRow
from archive.fields import EXHIBIT_FIELDS, field_label, type_label

_CSS = """
@page { size: A4; margin: 18mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", SimSun, serif;
       color: #222; margin: 0 auto; max-width: 190mm; line-height: 1.55; }
header { border-bottom: 2px solid #333; margin-bottom: 8mm; }
h1 { font-size: 22pt; margin: 0 0 2mm; } h2 { font-size: 15pt; margin: 8mm 0 3mm;
  border-bottom: 1px solid #999; page-break-after: avoid; }
.lead { color: #444; } .object { display: flex; gap: 6mm; padding: 4mm 0;
  border-bottom: 1px solid #ddd; page-break-inside: avoid; }
.thumb { flex: 0 0 42mm; } .thumb img { width: 42mm; height: auto; border: 1px solid #ccc; }
.noimage { width: 42mm; height: 30mm; border: 1px dashed #aaa; color: #888; display: flex;
  align-items: center; justify-content: center; font-size: 9pt; }
.no { font-weight: bold; color: #555; } .title { font-size: 12.5pt; font-weight: bold; }
.caption { margin: 1.5mm 0; } dl { display: grid; grid-template-columns: 22mm 1fr;
  margin: 1mm 0; font-size: 9pt; color: #444; } dt { color: #777; } dd { margin: 0; }
@media print { a { color: inherit; text-decoration: none; } }
"""
# An object's facts under its title, labelled as the registry labels them everywhere.
_FACTS = tuple(f for f in EXHIBIT_FIELDS if f not in ("title", "description", "caption"))


def _object(row: ObjectRow, image: str | None) -> str:
    thumb = (f'<img src="{escape(image)}" alt="{escape(row.title)}">' if image
             else '<div class="noimage">无图像 no image</div>')
    facts = {**row.cells(), "type": type_label(row.type)}
    dl = "".join(f"<dt>{escape(field_label(key))}</dt><dd>{escape(str(facts[key]))}</dd>"
                 for key in _FACTS if facts[key])
    caption = f'<p class="caption">{escape(row.caption)}</p>' if row.caption else ""
    description = f"<p>{escape(row.description)}</p>" if row.description else ""
    return (f'<article class="object" id="{escape(row.accession)}">'
            f'<div class="thumb">{thumb}</div><div>'
            f'<div><span class="no">{row.position}.</span> '
            f'<span class="title">{escape(row.title)}</span></div>'
            f"{caption}{description}<dl>{dl}</dl></div></article>")


def write_html(export: ExhibitExport, folder: Path) -> Path:
    """Write `folder/index.html` and `folder/images/`; returns the page's path."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    parts = []
    current: object = object()
    for row in export.rows:
        if row.section != current:
            current = row.section
            if row.section:
                parts.append(f"<h2>{escape(row.section)}</h2>")
        image = None
        if row.thumbnail and Path(row.thumbnail).exists():
            name = f"{row.accession}{Path(row.thumbnail).suffix}"
            shutil.copyfile(row.thumbnail, images / name)
            image = f"images/{name}"
        parts.append(_object(row, image))
    description = f'<p class="lead">{escape(export.description)}</p>' \
        if export.description else ""
    page = f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(export.title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{escape(export.title)}</h1>{description}
<p class="lead">{len(export.rows)} 件展品 objects</p></header>
{''.join(parts)}
</body>
</html>
"""
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
