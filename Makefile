# Prescreen: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install messages lock run test test-fast migrate seed bench bench-web bench-rescreen check lint clean

install: $(STAMP)
	$(BIN)/python manage.py compile_translations --verbosity 0

# Installs exactly what requirements.lock pins (with hashes), then the project itself without resolving again.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing user-facing text: collect the messages to translate into locale/zh_Hans/LC_MESSAGES/django.po
# (needs GNU gettext's xgettext), translate the new entries, then `make install` compiles them.
messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --ignore ".venv/*" --ignore "node_modules/*" --ignore "staticfiles/*"

# Re-pin after changing dependencies in pyproject.toml (needs pip-tools: `$(BIN)/pip install pip-tools`).
lock:
	$(BIN)/pip-compile --quiet --extra test --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host -o requirements.lock pyproject.toml

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed_trials
	@echo "Demo users (development only):"
	$(BIN)/python manage.py create_demo_users

# The web server and one task worker (`manage.py worker`) together; Ctrl-C stops both (scripts/run.py).
run: seed
	@echo "Serving http://127.0.0.1:8000  (log in with a demo user above)"
	$(BIN)/python scripts/run.py --port 8000

# Test-only tools from npm, pinned by package-lock.json: axe-core, which the browser tests load into each page.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(NODE_STAMP)

test: install $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint and format (ruff), types of the pure core (mypy), Django's checks, and the production settings.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy eligibility
	$(BIN)/python manage.py check
	DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-enough-secret-value ALLOWED_HOSTS=prescreen.example \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python scripts/bench_engine.py $(BENCH_ARGS)

# The web app under gunicorn on PostgreSQL (DATABASE_URL, else a throw-away database on 127.0.0.1:5432),
# with concurrent logged-in clients; e.g. BENCH_WEB_ARGS="--trials 50 --clients 2 --seconds 3 --referrals 20".
bench-web: install
	$(BIN)/python scripts/bench_web.py $(BENCH_WEB_ARGS)

# Re-screening N stored screenings after a criteria change, with 1 and 2 db_worker processes and inline, on
# PostgreSQL (DATABASE_URL, else a throw-away database on 127.0.0.1:5432); e.g. BENCH_RESCREEN_ARGS="--screenings 500 --trials 20".
bench-rescreen: install
	$(BIN)/python scripts/bench_rescreen.py $(BENCH_RESCREEN_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache screenshots
