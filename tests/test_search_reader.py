"""The index's reading of the catalog (search.documents.item_documents) reads plain rows, not ORM
objects (#14): the documents are the ones the ORM reader made, field for field, for every item,
for a list of ids and for the items changed since a time, withdrawn items left out. On SQLite
and PostgreSQL (tests.catalogs)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.models import File, FileText, Item, OcrLine, OcrPage
from archive.page_text import texts_of_files
from search import documents
from search.documents import item_documents
from tests.catalogs import catalog_settings
from tests.test_search import RECORDS, _add_records


def orm_documents(s: Session, item_ids: list[int] | None = None,
                  updated_since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """item_documents as it read the catalog before: Items, Files and FileTexts as objects."""
    last_id = 0
    scientists = documents._Scientists(s)
    while True:
        query = select(Item).where(Item.id > last_id, Item.withdrawn_at.is_(None)) \
            .order_by(Item.id).limit(documents.CHUNK)
        if item_ids is not None:
            query = query.where(Item.id.in_(item_ids))
        if updated_since is not None:
            query = query.where(Item.updated_at >= updated_since)
        items = list(s.scalars(query))
        if not items:
            return
        ids = [i.id for i in items]
        files: dict[int, list[File]] = {}
        for f in s.scalars(select(File).where(File.item_id.in_(ids)).order_by(File.path)):
            files.setdefault(f.item_id, []).append(f)
        file_ids = [f.id for fs in files.values() for f in fs]
        texts = {t.file_id: t.text for t in s.scalars(select(FileText)
                                                       .where(FileText.file_id.in_(file_ids)))}
        pages = texts_of_files(s, files)
        for item in items:
            yield documents._document(item, files.get(item.id, []), texts,
                                      scientists[item.scientist_id], pages.get(item.id, []))
        last_id = ids[-1]
        s.expunge_all()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Iterator[Catalog]:
    """The gold records many times over (more than two chunks), and what they lack: extra
    fields, a file's tags and EXIF text, a withdrawn item, a machine-read page, an item without
    files."""
    cat = Catalog.open(catalog_settings(tmp_path_factory.mktemp("reader") / "catalog.db"))
    _add_records(cat, [(f"{r[0]}-{n}", *r[1:]) for n in range(110) for r in RECORDS])
    with cat.session() as s:
        first = s.scalars(select(Item).order_by(Item.id)).first()
        assert first is not None
        first.extra = {"来源": "中国科学院档案馆", "box": 12}
        f = s.scalars(select(File).where(File.item_id == first.id)).first()
        assert f is not None
        f.tech = {"tags": {"Keywords": "导弹 火箭"}, "exif_description": "钱学森在实验室",
                  "author": "Tsien"}
        f.mime, f.pages, f.role = "image/jpeg", 1, "master"
        page = OcrPage(file_id=f.id, page=1, width=600, height=800, engine="rapidocr",
                       model="m", status="read")
        page.lines = [OcrLine(line_no=1, text="机读的导", x=0, y=0, w=1, h=1, confidence=0.9),
                      OcrLine(line_no=2, text="弹研究", x=0, y=2, w=1, h=1, confidence=0.9)]
        s.add(page)
        second = s.scalars(select(Item).order_by(Item.id).offset(1)).first()
        assert second is not None
        second.withdrawn_at = dt.datetime(2026, 1, 1)
        s.add(Item(accession="BARE-1", title="无文件的条目", type="letter",
                   root_id=first.root_id, key="bare"))
        s.commit()
    yield cat
    cat.close()


def _both(catalog: Catalog, **kw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with catalog.session() as s:
        rows = list(item_documents(s, **kw))
    with catalog.session() as s:
        objects = list(orm_documents(s, **kw))
    return rows, objects


def test_every_document_is_the_orm_readers(catalog):
    rows, objects = _both(catalog)
    assert len(rows) == len(RECORDS) * 110 + 1 - 1  # the withdrawn one left out
    assert rows == objects
    assert any("机读的导\n弹研究" in d["content"] or "机读的导弹研究" in d["content"] for d in rows)
    assert any("中国科学院档案馆" in d["words"] and "钱学森在实验室" in d["words"] for d in rows)
    assert any(d["accession"] == "BARE-1" and d["path"] == "" for d in rows)


def test_some_ids_and_changes_since_are_the_orm_readers(catalog):
    with catalog.session() as s:
        ids = list(s.scalars(select(Item.id).order_by(Item.id)))
        newest = s.scalar(select(Item.updated_at).order_by(Item.updated_at.desc()).limit(1))
    some = ids[:3] + ids[700:705] + ids[-2:]
    assert len(ids) > 2 * documents.CHUNK
    rows, objects = _both(catalog, item_ids=some)
    assert rows == objects and len(rows) == len(some) - 1  # ids[1] is withdrawn
    rows, objects = _both(catalog, updated_since=newest)
    assert rows == objects and rows
