# sdconsole developer tasks. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test check lint types imports snapshots i18n bench clean system-packages

# Install sdconsole with its development tools into .venv (re-run when pyproject.toml changes).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Build the demo store (once) and open the console on it.
demo: $(STAMP)
	$(BIN)/sdconsole demo

# Debian packages the tests need: dovecot-imapd, the IMAP server the mail tests start on
# 127.0.0.1 themselves (never as a system service). Installed when root with apt-get; otherwise
# a warning, and those tests skip.
system-packages:
	@if [ -x /usr/sbin/dovecot ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd; \
	else \
		echo "warning: /usr/sbin/dovecot is missing and this is not root with apt-get: the IMAP tests will be skipped (apt-get install dovecot-imapd)" >&2; \
	fi

# Every test, on SQLite and on PostgreSQL (127.0.0.1:5432, database "test", or SDCONSOLE_TEST_PG),
# and against a Dovecot IMAP server of their own (tests/channels).
test: $(STAMP) system-packages
	$(BIN)/python -m pytest -p no:cacheprovider

# Lint, types, import rules and the tests: what a change must pass.
check: lint types imports test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# Accept the current look of the TUI as the new snapshots (review the SVGs before committing).
snapshots: $(STAMP)
	$(BIN)/python -m pytest tests/tui --snapshot-update

# Add new strings to the catalogues and recompile them (then translate ru by hand).
i18n: $(STAMP)
	$(BIN)/python scripts/i18n.py update
	$(BIN)/python -c "from pathlib import Path; import importlib.util as u; s=u.spec_from_file_location('h','scripts/hatch_build.py'); m=u.module_from_spec(s); s.loader.exec_module(m); m.compile_catalogues(Path('.'))"

# The queue benchmark at 1,000,000 tickets (see benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_queue.py --db sqlite:///benchmarks/out/queue-1m.db

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
