"""The field registry: each catalog field declared once, so the manifest, `archive edit`, the
spreadsheet, the export, the exhibit rows, the query language, the facets and the site's
labels agree. Add a field here and they all know it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MATERIAL_TYPES: tuple[str, ...] = (
    "letter", "manuscript", "photograph", "audio", "video", "document", "other",
)
# One letter per type, used in accession numbers (QXS-L-00001); never reuse a letter.
TYPE_CODES: dict[str, str] = {
    "letter": "L", "manuscript": "M", "photograph": "P", "audio": "A",
    "video": "V", "document": "D", "other": "O",
}
# Folder and manifest words for each type, Chinese (simplified and traditional) and English.
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "letter": ("letter", "letters", "correspondence", "信件", "书信", "書信", "信函", "来信",
               "來信", "往来书信", "通信"),
    "manuscript": ("manuscript", "manuscripts", "手稿", "文稿", "草稿", "笔记", "筆記", "notes",
                   "notebooks", "drafts"),
    "photograph": ("photograph", "photographs", "photo", "photos", "pictures", "照片", "相片",
                   "图片", "圖片", "影像"),
    "audio": ("audio", "sound", "recordings", "interviews", "oral history", "oral-history",
              "录音", "錄音", "音频", "音頻", "口述", "访谈", "訪談"),
    "video": ("video", "videos", "film", "films", "视频", "視頻", "录像", "錄像", "影片"),
    "document": ("document", "documents", "papers", "文件", "文档", "文檔", "资料", "資料",
                 "档案", "檔案"),
    "other": ("other", "misc", "其他"),
}
_WORD_TO_TYPE = {
    unicodedata.normalize("NFKC", w).casefold(): t for t, ws in TYPE_WORDS.items() for w in ws
}


def type_word(word: str) -> str | None:
    """A type name or folder word in Chinese or English -> material type, else None.

    type_word("信件") -> "letter";  type_word("01_Letters") -> "letter";  type_word("x") -> None
    """
    key = unicodedata.normalize("NFKC", word).strip().casefold()
    if key in MATERIAL_TYPES:
        return key
    return _WORD_TO_TYPE.get(key) or _WORD_TO_TYPE.get(re.sub(r"^\d+[\s._-]*", "", key))


# How each type is named to people, Chinese then English: the site, the printable exhibit
# catalogue and the IIIF metadata all say it the same way.
TYPE_LABELS: dict[str, tuple[str, str]] = {
    "letter": ("信件", "Letter"), "manuscript": ("手稿", "Manuscript"),
    "photograph": ("照片", "Photograph"), "audio": ("录音", "Audio"), "video": ("录像", "Video"),
    "document": ("文件", "Document"), "other": ("其他", "Other"),
}


def type_label(material: str) -> str:
    """A material type as the bilingual interface shows it; an unknown value as it is.

    type_label("letter") -> "信件 Letter";  type_label("audio") -> "录音 Audio"
    type_label("x")      -> "x"
    """
    zh, en = TYPE_LABELS.get(material, ("", material))
    return f"{zh} {en}".strip()


ACCESS_LEVELS: tuple[str, ...] = ("open", "restricted", "closed")
FILE_ROLES: tuple[str, ...] = ("master", "page", "transcript", "sidecar")
# The roles of the files that are the item itself (shown, played, pictured), as opposed to its
# transcripts and sidecars.
MAIN_ROLES: tuple[str, ...] = ("master", "page")


@dataclass(frozen=True)
class ItemField:
    """One field of an item as people see it, declared once.

    name: the items column, and the manifest, spreadsheet and `archive edit --NAME` name when
    editable; zh/en: its label; query: the names a search query may use for it, English then
    Chinese, meaning the query field `searched_as` (default: name); facet: its place among
    the search facets (0: none); editable: its place among the fields people change
    (0: none); max_chars: the longest text it holds; exhibit: a column of exhibit exports."""
    name: str
    zh: str
    en: str
    query: tuple[str, ...] = ()
    searched_as: str | None = None
    facet: int = 0  # its place among the facets; 0: not a facet
    editable: int = 0  # its place in the spreadsheet and `archive edit`; 0: not editable
    max_chars: int | None = None
    exhibit: bool = False
    width: int = 16  # characters, in spreadsheets

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"


# In the order the site and the exhibit rows show them.
ITEM_FIELDS: tuple[ItemField, ...] = (
    ItemField("accession", "档号", "Accession", ("accession", "档号", "檔號"), exhibit=True),
    ItemField("title", "标题", "Title", ("title", "标题", "標題"), editable=1,
              max_chars=500, exhibit=True, width=40),
    ItemField("scientist", "科学家", "Scientist", ("scientist", "科学家", "人物"), facet=2,
              editable=3, exhibit=True, width=14),
    ItemField("type", "类型", "Type", ("type", "类型", "類型"), facet=1, editable=4,
              exhibit=True, width=12),
    ItemField("date", "日期", "Date", ("date", "year", "日期", "年份"), editable=2,
              exhibit=True, width=14),
    ItemField("decade", "年代", "Decade", ("decade", "年代"), searched_as="date", facet=3),
    ItemField("description", "描述", "Description", editable=6, exhibit=True, width=60),
    ItemField("caption", "说明", "Caption", exhibit=True),  # an exhibit's own, per object
    ItemField("extent", "规格", "Extent", exhibit=True),  # pages, pixels or duration
    ItemField("pages", "页数", "Pages"),
    ItemField("duration", "时长", "Duration", ("duration", "时长", "時長")),
    ItemField("location", "位置", "Location", editable=8, max_chars=500, exhibit=True,
              width=24),
    ItemField("rights", "权利", "Rights", editable=7, exhibit=True, width=24),
    ItemField("access", "开放", "Access", ("access",), editable=5, exhibit=True, width=11),
    # Sealed until: a restricted or closed item opens by itself on that day (archive/access.py).
    ItemField("access_until", "封存至", "Sealed until", editable=9, width=12),
    ItemField("collection", "全宗", "Collection", ("collection", "全宗", "系列"),
              editable=10, max_chars=500, exhibit=True, width=24),
    ItemField("text", "全文", "Full text", ("text", "全文")),
    ItemField("format", "格式", "Format", ("format",)),
)
ITEM_FIELD: dict[str, ItemField] = {f.name: f for f in ITEM_FIELDS}
# What a person may change after ingest, in the order the spreadsheet shows them; a manifest
# column of the same name sets it at ingest.
EDITABLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in sorted(ITEM_FIELDS, key=lambda f: f.editable) if f.editable)
MAX_CHARS: dict[str, int | None] = {f.name: f.max_chars for f in ITEM_FIELDS if f.editable}
FACETS: tuple[str, ...] = tuple(f.name for f in sorted(ITEM_FIELDS, key=lambda f: f.facet)
                                if f.facet)
EXHIBIT_FIELDS: tuple[str, ...] = tuple(f.name for f in ITEM_FIELDS if f.exhibit)
# Every name a query may give a field, English and Chinese -> the query field it means.
QUERY_NAMES: dict[str, str] = {q: f.searched_as or f.name for f in ITEM_FIELDS for q in f.query}


def field_label(name: str) -> str:
    """A field as the bilingual interface labels it; an undeclared name as it is.

    field_label("date") -> "日期 Date";  field_label("collection") -> "全宗 Collection"
    field_label("x")    -> "x"
    """
    f = ITEM_FIELD.get(name)
    return f.label if f else name


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "text", "keyword", "int", "float", "date"
    help: str


# The keys of `archive export`, in column order; README's table is written from this list.
EXPORT_FIELDS: tuple[Field, ...] = (
    Field("accession", "keyword", "accession number of the item the file belongs to"),
    Field("root", "keyword", "absolute path of the source root the file was ingested from"),
    Field("path", "keyword", "path relative to its root, POSIX separators"),
    Field("sha256", "keyword", "SHA-256 of the file's bytes, hex"),
    Field("size", "int", "size in bytes"),
    Field("mime", "keyword", "MIME type identified from the content"),
    Field("role", "keyword", "master, page, transcript or sidecar"),
    Field("type", "keyword", "material type of the item"),
    Field("scientist", "text", "preferred name of the item's scientist"),
    Field("title", "text", "title of the item"),
    Field("date", "keyword", "date of the item as catalogued (1950, 1950-03, 1950-03-15, ...)"),
    Field("access", "keyword", "open, restricted or closed"),
    Field("access_until", "keyword", "sealed until: the day a restricted or closed item opens "
                                     "by itself, ISO 8601; null if not sealed"),
    Field("collection", "text", "collection or series of the item (manifest column `collection`)"),
    Field("duration_seconds", "float", "duration of audio or video"),
    Field("width", "int", "image or video width in pixels"),
    Field("height", "int", "image or video height in pixels"),
    Field("pages", "int", "page count of a PDF or multi-page image"),
    Field("camera_make", "text", "EXIF Make"),
    Field("camera_model", "text", "EXIF Model"),
    Field("date_taken", "keyword", "EXIF DateTimeOriginal (else DateTime), ISO 8601"),
    Field("text_excerpt", "text", "first 200 characters of the extracted text"),
    Field("problem", "text", "why extraction failed, if it did"),
    Field("duplicate_of", "keyword", "path (root-relative) of the first copy of the same bytes"),
    Field("status", "keyword", "present, missing (not at its path) or changed (its bytes differ "
                               "from sha256), as ingest or `archive verify` last found it"),
    Field("last_verified", "keyword", "when `archive verify` last checked the file, ISO 8601 "
                                      "UTC; null if never"),
)
EXPORT_KEYS: tuple[str, ...] = tuple(f.name for f in EXPORT_FIELDS)


# The search index's fields (each engine turns kinds into its field types: search/engines/):
#   id: one exact stored value; keyword: exact values, several per item; text: Chinese bigrams
#   and English stems; words: jieba words (an addition to text); int/float: numbers that sort
#   and range; code: a facet's value as a number read in bulk; stored: kept for display only.
SEARCH_FIELDS: tuple[Field, ...] = (
    Field("accession", "id", "accession number (unique)"),
    Field("item_id", "int", "catalog id of the item"),
    Field("title", "text", "title, searched with extra weight"),
    Field("scientist", "keyword", "matching keys of every name of the scientist"),
    Field("scientist_name", "id", "preferred name, the scientist facet"),
    Field("type", "id", "material type, a facet"),
    Field("date", "stored", "date as catalogued"),
    Field("year_start", "int", "first year the date covers"),
    Field("year_end", "int", "last year the date covers"),
    Field("years", "keyword", "every year the date covers, for fast bounded ranges"),
    Field("date_sort", "int", "yyyymmdd of the start, for sorting"),
    Field("type_code", "code", "the type facet as a small number (search/facets.py)"),
    Field("scientist_code", "code", "the scientist facet: the scientist's catalog id"),
    Field("decade_code", "code", "the decade facet as a small number"),
    Field("collection", "text", "collection or series"),
    Field("access", "id", "open, restricted or closed"),
    Field("hidden", "id", "yes for a restricted or closed item: what the public may not see, "
                          "as one term (an exclusion of one term costs least)"),
    Field("access_until", "int", "yyyymmdd of the sealing date: the item opens by itself that "
                                 "day, so the public mask is computed at query time"),
    Field("format", "keyword", "file formats of the item"),
    Field("duration", "int", "whole seconds of audio or video"),
    Field("content", "text", "title, description, transcriptions, document text, cues"),
    Field("words", "words", "the same text as jieba words"),
    Field("path", "stored", "path of the item's main file"),
)
