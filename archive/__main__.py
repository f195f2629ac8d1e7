"""`python -m archive` is the `archive` command."""
from archive.cli import main

main(prog_name="archive")
