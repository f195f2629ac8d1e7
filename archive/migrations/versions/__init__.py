"""One file per schema revision, oldest first: NNNN_what_changed.py."""
