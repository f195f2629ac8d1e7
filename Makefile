# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-output

.PHONY: demo test install clean

install: $(STAMP)

# Reinstall only when the dependency list changes; a second `make` is instant.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(PY) -m archive.samplegen $(DEMO)
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db scientists import $(DEMO)/scientists.csv
	@# Exit 1 means 'some files had problems': the sample holds one corrupt file on purpose.
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db ingest $(DEMO)/collection --manifest $(DEMO)/collection/manifest.csv || test $$? -eq 1
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db stats

test: $(STAMP)
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO) catalog.db catalog.db.* .pytest_cache
