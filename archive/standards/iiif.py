"""IIIF Presentation 3 manifests, one builder for every manifest the archive writes (an exhibit's,
an item's): one canvas per image, PDF page, recording or video, image canvases with a IIIF Image
API 3 service for deep zoom, time-based canvases with their duration, transcripts' cues as
`supplementing` annotations aimed at their moment (`#t=start,end`), machine-read lines of a page
as `supplementing` annotations aimed at their box (`#xywh=x,y,w,h`), and the answers of an
item's IIIF Content Search 2.0 service over those lines. Built as plain data and checked by
iiif-prezi3's models; knows nothing of Flask or the database.

    image_id("QXS-L-00002", "9f86d08…")  -> "QXS-L-00002~9f86d081884c7d65"
    image_id("QXS-D-00001", "9f86d08…", page=3) -> "QXS-D-00001~9f86d081884c7d65~p3"
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from archive.exhibit_export.rows import FileInfo, ObjectRow
from archive.fields import MAIN_ROLES, TYPE_LABELS
from archive.names import has_han
from archive.page_text import PageText, match_on

_A4 = (1189, 841)  # height, width of a canvas standing for a PDF page without an image
ID_DIGITS = 16  # of the sha256 in an image id: opaque, and unique enough within one item
TRANSCRIPT_FORMATS = {".vtt": "text/vtt", ".srt": "application/x-subrip"}


def image_id(accession: str, sha256: str, page: int | None = None,
             frame: int | None = None) -> str:
    """The Image API identifier of a file's image (or of a PDF's page image, or of a frame
    after the first of a multi-page TIFF): the item's number (so the public rule is the
    item's) and the start of the checksum (so it changes with the bytes and names no path).

    image_id("QXS-L-00001", "ab12…", frame=2) -> "QXS-L-00001~ab12…~f2"
    """
    suffix = f"~p{page}" if page else f"~f{frame}" if frame and frame > 1 else ""
    return f"{accession}~{sha256[:ID_DIGITS]}" + suffix


@dataclass(frozen=True)
class Transcript:
    path: str
    cues: tuple[tuple[float, float, str], ...]


@dataclass(frozen=True)
class Picture:
    """An image the site serves through the Image API: its id and its size as served."""
    id: str
    width: int
    height: int


@dataclass(frozen=True)
class SiteFiles:
    """What the site holds for an object beyond its catalog row, by file path."""
    images: Mapping[str, Picture] = field(default_factory=dict)  # image files
    pdf_pages: Mapping[str, Mapping[int, Picture]] = field(default_factory=dict)  # page -> image
    access: Mapping[str, str] = field(default_factory=dict)  # path -> access-audio|video
    thumbnails: frozenset[str] = frozenset()  # paths with a thumbnail derivative
    transcripts: tuple[Transcript, ...] = ()
    # (path, page in the file) -> what the OCR read there (pages of a public item only)
    texts: Mapping[tuple[str, int], PageText] = field(default_factory=dict)
    # a multi-page TIFF's frames (1 is the first): each a page, a canvas, an image served
    frames: Mapping[str, Mapping[int, Picture]] = field(default_factory=dict)


def label(text: str) -> dict[str, list[str]]:
    return {"zh" if has_han(text) else "en": [text]}


def _pair(zh: str, en: str, value: str) -> dict[str, dict[str, list[str]]]:
    return {"label": {"zh": [zh], "en": [en]}, "value": label(value)}


def file_url(base: str, accession: str, path: str) -> str:
    return f"{base}/items/{quote(accession)}/files/{quote(path)}"


def service_url(base: str, picture_id: str) -> str:
    return f"{base}/iiif/{quote(picture_id)}"


def _metadata(row: ObjectRow) -> list[dict[str, Any]]:
    zh, en = TYPE_LABELS.get(row.type, (row.type, row.type))
    metadata: list[dict[str, Any]] = [
        _pair("档号", "Accession number", row.accession),
        {"label": {"zh": ["类型"], "en": ["Type"]}, "value": {"zh": [zh], "en": [en]}}]
    for zh, en, value in (("科学家", "Scientist", row.scientist), ("日期", "Date", row.date),
                          ("说明", "Caption", row.caption), ("规格", "Extent", row.extent)):
        if value:
            metadata.append(_pair(zh, en, value))
    return metadata


def _image_service(base: str, picture: Picture) -> list[dict[str, Any]]:
    return [{"id": service_url(base, picture.id), "type": "ImageService3", "profile": "level1"}]


def _painting(canvas: dict[str, Any], n: int, root: str, body: dict[str, Any]) -> None:
    canvas["items"] = [{"id": f"{root}/page/{n}", "type": "AnnotationPage",
                        "items": [{"id": f"{root}/annotation/{n}", "type": "Annotation",
                                   "motivation": "painting", "body": body,
                                   "target": canvas["id"]}]}]


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0]


def _transcripts_for(f: FileInfo, timed: list[FileInfo],
                     transcripts: Sequence[Transcript]) -> list[Transcript]:
    """A transcript belongs to the recording whose name it starts with, else to the object's
    first recording."""
    mine = []
    for t in transcripts:
        owner = next((r for r in timed if _stem(t.path).startswith(_stem(r.path))), timed[0])
        if owner.path == f.path:
            mine.append(t)
    return mine


def _supplementing(canvas: dict[str, Any], n: int, root: str, base: str, accession: str,
                   transcripts: list[Transcript]) -> None:
    annotations: list[dict[str, Any]] = []
    rendering: list[dict[str, Any]] = []
    for t in transcripts:
        fmt = TRANSCRIPT_FORMATS.get("." + t.path.rsplit(".", 1)[-1].lower(), "text/plain")
        rendering.append({"id": file_url(base, accession, t.path), "type": "Text",
                          "format": fmt, "label": label(t.path.rsplit("/", 1)[-1])})
        for start, end, text in t.cues:
            body: dict[str, Any] = {"type": "TextualBody", "value": text, "format": "text/plain"}
            if has_han(text):
                body["language"] = "zh"
            annotations.append({
                "id": f"{root}/annotation/{n}/cue/{len(annotations) + 1}", "type": "Annotation",
                "motivation": "supplementing", "body": body,
                "target": f"{canvas['id']}#t={start:g},{max(end, start):g}"})
    if rendering:
        canvas.setdefault("rendering", []).extend(rendering)
    if annotations:
        canvas["annotations"] = [{"id": f"{root}/page/{n}/transcript", "type": "AnnotationPage",
                                  "items": annotations}]


def _xywh(box: tuple[int, int, int, int], page: tuple[int, int],
          canvas: tuple[int, int]) -> str:
    """A box in the OCR'd page image's pixels as a box on the canvas (sizes may differ: the
    canvas is the image as served).

        _xywh((100, 50, 200, 20), (1000, 2000), (500, 1000)) -> "50,25,100,10"
    """
    sx = canvas[0] / page[0] if page[0] else 1.0
    sy = canvas[1] / page[1] if page[1] else 1.0
    x, y, w, h = box
    return f"{round(x * sx)},{round(y * sy)},{max(1, round(w * sx))},{max(1, round(h * sy))}"


def line_id(root: str, n: int, line_no: int) -> str:
    return f"{root}/annotation/{n}/line/{line_no}"


def _line_annotations(canvas: dict[str, Any], n: int, root: str,
                      text: PageText) -> list[dict[str, Any]]:
    out = []
    for line in text.lines:
        body: dict[str, Any] = {"type": "TextualBody", "value": line.text,
                                "format": "text/plain"}
        if has_han(line.text):
            body["language"] = "zh"
        target = _xywh((line.x, line.y, line.w, line.h), (text.width, text.height),
                       (canvas["width"], canvas["height"]))
        out.append({"id": line_id(root, n, line.line_no), "type": "Annotation",
                    "motivation": "supplementing", "body": body,
                    "target": f"{canvas['id']}#xywh={target}"})
    return out


def _machine_read(canvas: dict[str, Any], n: int, root: str, text: PageText) -> None:
    """The page's machine-read lines as `supplementing` annotations, labelled as such."""
    canvas["annotations"] = [{"id": f"{root}/page/{n}/ocr", "type": "AnnotationPage",
                              "label": {"zh": ["机器识别文字"], "en": ["Machine-read text"]},
                              "items": _line_annotations(canvas, n, root, text)}]


def _canvases(row: ObjectRow, site: SiteFiles, base: str, root: str,
              start: int) -> list[dict[str, Any]]:
    """The canvases of one object, numbered from `start` + 1."""
    return [c for c, _ in _keyed_canvases(row, site, base, root, start)]


def _keyed_canvases(row: ObjectRow, site: SiteFiles, base: str, root: str,
                    start: int) -> list[tuple[dict[str, Any], tuple[str, int]]]:
    """The canvases of one object, numbered from `start` + 1, each with the (path, page in
    the file) it shows."""
    metadata = _metadata(row)
    mains = [f for f in row.files if f.role in MAIN_ROLES]
    timed = [f for f in mains if (f.mime or "").startswith(("audio/", "video/")) and f.duration]
    out: list[tuple[dict[str, Any], tuple[str, int]]] = []
    for f in mains:
        url = file_url(base, row.accession, f.path)
        mime = f.mime or ""
        pages: list[tuple[dict[str, Any], dict[str, Any] | None]] = []  # canvas, body
        if mime.startswith("image/") and f.path in site.frames:
            for frame in site.frames[f.path].values():  # each frame a canvas, in order
                pages.append(({"width": frame.width, "height": frame.height},
                              {"id": f"{service_url(base, frame.id)}/full/max/0/default.jpg",
                               "type": "Image", "format": "image/jpeg",
                               "width": frame.width, "height": frame.height,
                               "service": _image_service(base, frame)}))
        elif mime.startswith("image/") and f.width and f.height:
            picture = site.images.get(f.path)
            width, height = (picture.width, picture.height) if picture else (f.width, f.height)
            body: dict[str, Any] = {"id": url, "type": "Image", "format": mime,
                                    "width": width, "height": height}
            if picture:
                body["service"] = _image_service(base, picture)
            pages.append(({"width": width, "height": height}, body))
        elif f in timed:
            kind = "Video" if mime.startswith("video/") else "Sound"
            access = site.access.get(f.path)
            src = f"{url}?as={access}" if access else url
            fmt = {"access-audio": "audio/mpeg", "access-video": "video/mp4"}.get(access or "",
                                                                                  mime)
            body = {"id": src, "type": kind, "format": fmt, "duration": f.duration}
            size: dict[str, Any] = {"duration": f.duration}
            if kind == "Video" and f.width and f.height:
                body.update(width=f.width, height=f.height)
                size.update(width=f.width, height=f.height)
            pages.append((size, body))
        elif mime == "application/pdf" and f.pages:
            images = site.pdf_pages.get(f.path, {})
            for page in range(1, f.pages + 1):
                picture = images.get(page)
                if picture is None:
                    pages.append(({"width": _A4[1], "height": _A4[0]}, None))
                    continue
                pages.append(({"width": picture.width, "height": picture.height},
                              {"id": f"{service_url(base, picture.id)}/full/max/0/default.jpg",
                               "type": "Image", "format": "image/jpeg",
                               "width": picture.width, "height": picture.height,
                               "service": _image_service(base, picture)}))
        for page, (size, painted) in enumerate(pages, start=1):
            n = start + len(out) + 1
            title = row.title if len(pages) == 1 else f"{row.title} ({page})"
            canvas: dict[str, Any] = {"id": f"{root}/canvas/{n}", "type": "Canvas",
                                      "label": label(title), "metadata": metadata, **size}
            if painted is not None:
                _painting(canvas, n, root, painted)
            if mime == "application/pdf":
                canvas["rendering"] = [{"id": url, "type": "Text", "format": mime,
                                        "label": label(f"{row.title} (PDF)")}]
            if f.path in site.thumbnails:
                canvas["thumbnail"] = [{"id": f"{url}?as=thumbnail", "type": "Image",
                                        "format": "image/jpeg"}]
            if f in timed and site.transcripts:
                _supplementing(canvas, n, root, base, row.accession,
                               _transcripts_for(f, timed, site.transcripts))
            text = site.texts.get((f.path, page))
            if text is not None and text.lines and "width" in canvas and f not in timed:
                _machine_read(canvas, n, root, text)
            out.append((canvas, (f.path, page)))
    return out


def build_manifest(manifest_id: str, title: str, summary: str | None,
                   objects: Sequence[tuple[ObjectRow, SiteFiles]], base_url: str,
                   ranges: bool = True, search: str | None = None) -> Any:
    """The manifest of `objects` in order (an iiif_prezi3 Manifest, validated by its models);
    with `ranges`, a range per section of the objects (an exhibit's rooms); with `search`, the
    URL of a Content Search 2.0 service over its machine-read lines."""
    from iiif_prezi3 import Manifest
    base = base_url.rstrip("/")
    root = manifest_id.rsplit("/", 1)[0]
    data: dict[str, Any] = {"id": manifest_id, "type": "Manifest", "label": label(title)}
    if summary:
        data["summary"] = label(summary)
    if search:
        data["service"] = [{"id": search, "type": "SearchService2"}]
    canvases: list[dict[str, Any]] = []
    sections: dict[str | None, list[str]] = {}
    for row, site in objects:
        made = _canvases(row, site, base, root, len(canvases))
        canvases += made
        sections.setdefault(row.section, []).extend(c["id"] for c in made)
    data["items"] = canvases
    structures = [{"id": f"{root}/range/{number}", "type": "Range", "label": label(section),
                   "items": [{"id": c, "type": "Canvas"} for c in ids]}
                  for number, (section, ids) in enumerate(sections.items(), start=1)
                  if section and ranges]
    if structures:
        data["structures"] = structures
    return Manifest(**data)


# -- Content Search 2.0 ------------------------------------------------------------------------

PRESENTATION_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
SEARCH_CONTEXT = "http://iiif.io/api/search/2/context.json"
QUOTE_CHARS = 20  # of the line before and after a match, in a highlighting selector
SEARCH_PAGE_SIZE = 100  # matching lines per answer page: a long letter's common word pages


def answer_pages(total: int, size: int) -> int:
    """How many pages an answer of `total` matching lines takes (at least one, empty).

    answer_pages(0, 100)   -> 1
    answer_pages(100, 100) -> 1
    answer_pages(101, 100) -> 2
    """
    return max(1, -(-total // size))


def _quote(text: str, start: int, end: int) -> dict[str, str]:
    selector = {"type": "TextQuoteSelector", "prefix": text[max(0, start - QUOTE_CHARS):start],
                "exact": text[start:end], "suffix": text[end:end + QUOTE_CHARS]}
    return {k: v for k, v in selector.items() if v}


def search_answer(answer_id: str, manifest_id: str, row: ObjectRow, site: SiteFiles,
                  base_url: str, patterns: list[str], motivations: Sequence[str] = (),
                  ignored: Sequence[str] = (), page: int = 1,
                  page_url: Callable[[int], str] | None = None,
                  page_size: int = SEARCH_PAGE_SIZE) -> dict[str, Any]:
    """A IIIF Content Search 2.0 answer over an object's machine-read lines: the lines that
    hold the query (the same annotations as the manifest's, aimed at `canvas#xywh=…`) in
    `items`, and for each match in a line a `highlighting` annotation quoting it in
    `annotations`. `motivations` (the request's `motivation`) narrows the lines to those with
    one of them; `ignored` names the request's parameters the service does not implement.

    Paging (§3.3.2): up to `page_size` lines fit one answer, a simple list whose `id` is
    `answer_id`. More are an AnnotationCollection (`answer_id`, with its `total`, `first` and
    `last`) of pages `page_url(n)`; each page is `partOf` it, with `startIndex`, `next` and
    `prev`, and holds the highlights of its own lines."""
    from search.snippets import find_matches
    base = base_url.rstrip("/")
    root = manifest_id.rsplit("/", 1)[0]
    items: list[dict[str, Any]] = []
    highlights: list[dict[str, Any]] = []
    wanted = not motivations or "supplementing" in motivations
    for canvas, key in _keyed_canvases(row, site, base, root, 0) if patterns and wanted else []:
        text = site.texts.get(key)
        if text is None or "annotations" not in canvas:
            continue
        lines = canvas["annotations"][0]["items"]
        for i in match_on(text, patterns).lines:
            line = lines[i]
            items.append(line)
            value = text.lines[i].text
            for start, end in find_matches(value, patterns):
                highlights.append({
                    "id": f"{answer_id}#match-{len(highlights) + 1}", "type": "Annotation",
                    "motivation": "highlighting",
                    "target": {"type": "SpecificResource", "source": line["id"],
                               "selector": [_quote(value, start, end)]}})
    pages = answer_pages(len(items), page_size)
    paged = page_url is not None and (pages > 1 or page > 1)
    answer: dict[str, Any] = {"@context": PRESENTATION_CONTEXT, "id": answer_id,
                              "type": "AnnotationPage", "items": items}
    if paged and page_url is not None:
        start = (page - 1) * page_size
        answer["id"] = page_url(page)
        answer["partOf"] = {"id": answer_id, "type": "AnnotationCollection",
                            "total": len(items),
                            "first": {"id": page_url(1), "type": "AnnotationPage"},
                            "last": {"id": page_url(pages), "type": "AnnotationPage"}}
        answer["startIndex"] = start
        if page > 1:
            answer["prev"] = {"id": page_url(min(page - 1, pages)), "type": "AnnotationPage"}
        if page < pages:
            answer["next"] = {"id": page_url(page + 1), "type": "AnnotationPage"}
        answer["items"] = items = items[start:start + page_size]
        shown = {line["id"] for line in items}
        highlights = [h for h in highlights if h["target"]["source"] in shown]
    if ignored:
        answer["ignored"] = list(ignored)
    if highlights:
        answer["annotations"] = [{"id": f"{answer['id']}#matches", "type": "AnnotationPage",
                                  "items": highlights}]
    if ignored or highlights:  # search-specific properties: both contexts, in this order
        answer["@context"] = [PRESENTATION_CONTEXT, SEARCH_CONTEXT]
    return answer
