"""Bulk ingest: walk -> skip unchanged -> hash and extract (isolated workers) -> write batches."""
