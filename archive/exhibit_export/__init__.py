"""Exhibit exports for the museum: one row builder (rows.py), one module per format."""
