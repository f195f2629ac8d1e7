"""The archives' standards: EAD3 finding aids, EAC-CPF records, Dublin Core (oai_dc), PREMIS 3
events and BagIt packages, built with lxml from the plain records in `records.py`."""
