"""The site's half of the audit log (archive/audit.py): every view of a restricted or closed
item's page, file, derivative, IIIF manifest or image, and every search hit of one, is recorded
with who, when and from which address; so is every such request refused. Each view calls one
function here, once: `audited_item` in place of looking the item up, `audit_hits` after a
search. Open items are never recorded, and a published copy of the catalog (which cannot be
written, and has no accounts to see restricted material with) records nothing."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accession import item_by_accession
from archive.audit import REFUSED, SERVED, audited, record_view
from archive.errors import NotFound
from archive.models import Item
from web import data
from web.views.context import accounts, db, state, viewer

log = logging.getLogger(__name__)


def _record(items: Iterable[Item], action: str, outcome: str) -> None:
    wanted = [i for i in items if audited(i.access, i.access_until)]
    if not wanted or not state().accounts_enabled:
        return
    path = request.full_path.rstrip("?")[:2000]
    with accounts() as w:
        for item in wanted:
            record_view(w, item, action, viewer().name, request.remote_addr, path, outcome)


def audited_item(s: Session, accession: str, action: str) -> Item:
    """The item if this request's viewer may see it (web.data.visible_item decides), its view
    recorded when it is restricted or closed; else NotFound, the refusal recorded when such an
    item exists (the answer is the same 404 as for no item at all)."""
    try:
        item = data.visible_item(s, accession, viewer())
    except NotFound:
        refused = item_by_accession(s, accession)
        if refused is not None and refused.withdrawn_at is None:
            _record([refused], action, REFUSED)
        raise
    _record([item], action, SERVED)
    return item


def audit_hits(hits: Iterable[dict[str, Any]]) -> None:
    """Search hits shown to this viewer (title, snippet): one `snippet` row per restricted or
    closed one. The index only ever returns what the viewer may see."""
    accessions = [h["accession"] for h in hits]
    if accessions:
        _record(db().scalars(select(Item).where(Item.accession.in_(accessions))), "snippet",
                SERVED)
