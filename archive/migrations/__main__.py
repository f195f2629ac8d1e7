"""For developers: `python -m archive.migrations "what changed"` drafts the next revision from
the difference between archive/models.py and the newest revision (README: Schema migrations)."""
from __future__ import annotations

import sys

from archive.schema import new_revision

if len(sys.argv) != 2:
    sys.exit('usage: python -m archive.migrations "what changed, e.g. items: add shelf mark"')
print(f"wrote {new_revision(sys.argv[1])}: read it, correct it, then run "
      "tests/test_migrations.py")
