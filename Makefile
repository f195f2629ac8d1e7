# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-output

.PHONY: demo test test-postgres lint install clean bench bench-full

install: $(STAMP)

# Reinstall only when the dependency list changes; a second `make` is instant.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO)
	$(PY) -m benchmarks.generators.samples $(DEMO)
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db scientists import $(DEMO)/scientists.csv
	@# Exit 1 means 'some files had problems': the sample holds one corrupt file on purpose.
	@# --ocr: the letters' scans are machine-read too (a word only a scan holds: 风洞).
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db ingest $(DEMO)/collection --manifest $(DEMO)/collection/manifest.csv --ocr || test $$? -eq 1
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db stats
	@# Thumbnails for the exhibit; the corrupt scan still gets one (exit 0).
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db derive --quiet
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db search 导弹 --facets
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db search 风洞
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db exhibit create liangdan-yixing --title "两弹一星" --description "导弹、原子弹与人造卫星：科学家的书信、手稿、照片与口述"
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db exhibit add liangdan-yixing --query "导弹 OR 卫星" --section "第一展厅 书信与口述"
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db exhibit add liangdan-yixing --query "type:photograph date:1950..1960" --section "第二展厅 照片"
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db exhibit export liangdan-yixing --format html -o $(DEMO)/liangdan-yixing
	$(VENV)/bin/archive --catalog $(DEMO)/catalog.db exhibit export liangdan-yixing --format csv -o $(DEMO)/liangdan-yixing.csv
	@echo "Open $(DEMO)/liangdan-yixing/index.html for the printable catalogue."

# Lint first: ruff and mypy read their settings from pyproject.toml (a user-level ruff
# configuration does not apply inside the project).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

# The whole suite again with every catalog on PostgreSQL: a server of its own in a temporary
# folder, started and stopped by .ci/with-postgres (which installs Debian's postgresql if it
# is missing and the user is root). PYTEST_ARGS="-x tests/test_ingest.py" narrows it.
test-postgres: $(STAMP)
	.ci/with-postgres $(PY) -m pytest -q $(PYTEST_ARGS)

# Benchmarks are not tests: they print a table and rewrite docs/PERFORMANCE.md.
bench: $(STAMP)
	$(PY) -m benchmarks.run

bench-full: $(STAMP)
	$(PY) -m benchmarks.run --full

clean:
	rm -rf $(VENV) $(DEMO) catalog.db catalog.db.* .pytest_cache
