# Two commands for a new machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The NHS.UK frontend and htmx, copied out of node_modules/ into static files (var/vendor/).
VENDOR := var/vendor
FRONTEND_STAMP := $(VENDOR)/.installed
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install frontend run setup test lint format migrate demo lock clean screenshots security

help:
	@echo "make run    set up, load the demo data and start web, worker and beat on http://127.0.0.1:$(PORT)/"
	@echo "make test   set up and run ruff and the whole test suite"
	@echo "make screenshots  retake the browser screenshots in docs/screenshots/"
	@echo "make lock   re-resolve requirements.lock (runtime) and requirements-dev.lock from pyproject.toml"
	@echo "make security  bandit over the code and pip-audit over both lock files (needs PyPI)"

$(STAMP): requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Outreach needs Python 3.11 or newer.")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@touch $(STAMP)

install: $(STAMP)

# npm ci installs exactly what package-lock.json pins; --ignore-scripts runs no package code.
$(FRONTEND_STAMP): package-lock.json package.json scripts/frontend.sh
	@command -v npm >/dev/null || { echo "Outreach needs Node.js and npm for the NHS.UK frontend."; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	sh scripts/frontend.sh $(VENDOR)
	@touch $(FRONTEND_STAMP)

frontend: $(FRONTEND_STAMP)

# A local .env with a fresh secret key, so the embedded defaults run without setup.
.env:
	@$(PYTHON) -c 'import secrets; print("DEBUG=true\nSECRET_KEY=" + secrets.token_urlsafe(50))' > .env
	@echo "Wrote .env for local use (DEBUG on, a new SECRET_KEY)."

setup: install frontend .env
	@mkdir -p var/celery/broker var/celery/processed var/celery/control
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py load_demo

run: setup
	@$(BIN)/python manage.py demo_logins --url http://127.0.0.1:$(PORT)/
	@# honcho gives the first process (web) the port given by -p; Ctrl-C stops all three.
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile -p $(PORT)

# Tests never read .env: they get their own key, and the database and broker come only from
# DATABASE_URL and REDIS_URL.
test: install frontend
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=test-only-not-secret OUTREACH_READ_DOTENV=false DEBUG=false \
		$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 1
	SECRET_KEY=test-only-not-secret OUTREACH_READ_DOTENV=false DEBUG=false \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# Browser screenshots of the main screens, written to docs/screenshots/ (see docs/web.md).
screenshots: install frontend
	SECRET_KEY=test-only-not-secret OUTREACH_READ_DOTENV=false DEBUG=false \
		$(BIN)/python -m pytest tests/web --screenshots -q -p no:cacheprovider

# Security checks, run by CI (.ci/run) after the tests. bandit: accepted findings are marked
# `# nosec <id>` on their line, with the reason in pyproject.toml. pip-audit: every pinned
# package is looked up in PyPI's vulnerability data (scripts/audit_dependencies.py): a known
# vulnerability fails; where that data cannot be reached at all it says NOT AUDITED, and fails
# too when OUTREACH_REQUIRE_AUDIT is set.
security: install
	$(BIN)/bandit -q -c pyproject.toml -r clinics outreach referrals config
	$(BIN)/python scripts/audit_dependencies.py requirements.lock requirements-dev.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install .env
	$(BIN)/python manage.py migrate

demo: install .env
	$(BIN)/python manage.py load_demo

# --no-strip-extras writes celery[redis]==... and the like: without the extras in the pins, the
# pip that Python 3.11's venv brings (23.2) refuses an extra asked for by another package
# ("all requirements must have their versions pinned") in --require-hashes mode.
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --generate-hashes --universal --no-strip-extras \
		--python-version 3.11 --custom-compile-command "make lock" -o requirements.lock
	$(PYTHON) -m uv pip compile pyproject.toml --group dev --generate-hashes --universal --no-strip-extras \
		--python-version 3.11 --custom-compile-command "make lock" -o requirements-dev.lock

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .ruff_cache
