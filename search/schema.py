"""The Whoosh schema, derived from the field registry so index, queries and exports agree."""
from __future__ import annotations

from whoosh import fields as wf

from archive.fields import SEARCH_FIELDS
from search.analysis import chinese_analyzer, word_analyzer


def build_schema() -> wf.Schema:
    kinds = {
        "id": lambda name: wf.ID(stored=True, unique=name == "accession", sortable=True),
        "keyword": lambda name: wf.KEYWORD(stored=False, lowercase=False, commas=False,
                                           scorable=False),
        "text": lambda name: wf.TEXT(analyzer=chinese_analyzer(), stored=False,
                                     field_boost=3.0 if name == "title" else 1.0),
        "words": lambda name: wf.TEXT(analyzer=word_analyzer(), stored=False, phrase=False),
        "int": lambda name: wf.NUMERIC(int, bits=32, stored=True, sortable=True),
        "code": lambda name: wf.NUMERIC(int, bits=32, signed=False, stored=False,
                                        sortable=True, default=0),
        # No float fields: Whoosh 2.7.4 cannot pack the NaN default of a sortable float.
        "stored": lambda name: wf.STORED(),
    }
    schema = wf.Schema()
    for field in SEARCH_FIELDS:
        schema.add(field.name, kinds[field.kind](field.name))
    schema.add("title_stored", wf.STORED())
    return schema
