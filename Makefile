# Prescreen: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast migrate seed bench check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed_trials
	@echo "Demo users (development only):"
	$(BIN)/python manage.py create_demo_users

run: seed
	@echo "Serving http://127.0.0.1:8000  (log in with a demo user above)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/python manage.py check
	DEBUG=0 SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-enough-secret-value ALLOWED_HOSTS=prescreen.example \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python scripts/bench_engine.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache screenshots
