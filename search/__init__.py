"""Full-text search over the catalog: Chinese analysis, the query language and its compiling
rules, facets, snippets, the index's life and the search service, all engine-free; the engines
(Tantivy, Whoosh) live in search/engines/. The index is always rebuilt from the catalog."""
