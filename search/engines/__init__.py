"""Search engines behind search/: the Whoosh engine (search/index.py, search/schema.py,
search/facets.py and the Whoosh half of search/searcher.py, for now) and the Tantivy engine
(search/engines/tantivy.py, the only module importing tantivy). The setting `search_engine`
chooses (default whoosh: Tantivy cannot yet open an index it may not write to); the documents,
analysis, query tree, snippets and public-only rule are shared."""
