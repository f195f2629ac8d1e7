"""Full-text search over the catalog (Whoosh): schema, Chinese analysis, queries, facets.
All Whoosh imports stay inside this package; the index is always rebuilt from the catalog."""
