# The two commands: `make run` and `make test`. Everything else here is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
VENDOR := static/vendor

.PHONY: run test production production-stop setup debian-packages lrs-venv assets translations messages db demo outbox lint format bench bench-recordings bench-chat bench-export bench-notifications bench-scorm bench-certificates bench-forums bench-search bench-surveys clean

# The background worker (e-mail, reminders, digests) runs beside the server and stops with it.
run: setup db demo  ## serve the platform on SQLite with demo data at http://$(HOST):$(PORT), with its background worker
	@$(FLASK) demo-accounts --url http://$(HOST):$(PORT)
	export PUBLIC_ORIGIN=$${PUBLIC_ORIGIN:-http://$(HOST):$(PORT)}; \
	content=localhost; [ "$(HOST)" = localhost ] && content=127.0.0.1; \
	export SCORM_CONTENT_ORIGIN=$${SCORM_CONTENT_ORIGIN:-http://$$content:$(PORT)}; \
	$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind $(HOST):$(PORT)

# The tests run in TEST_WORKERS processes side by side (pytest-xdist; 0 runs them one after the
# other in pytest's own); PYTEST_ARGS replaces these options: `make test PYTEST_ARGS="tests/api -x"`.
TEST_WORKERS ?= 2
PYTEST_ARGS ?= -n $(TEST_WORKERS)
test: setup debian-packages lrs-venv  ## lint, then run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

# The production topology on this machine: PostgreSQL, Redis, 2 processes, nginx (deploy/stack.py).
production: setup debian-packages  ## serve through nginx and two gevent processes on PostgreSQL and Redis, at https://localhost:8443
	$(BIN)/python deploy/stack.py start

production-stop:  ## stop what `make production` started
	$(BIN)/python deploy/stack.py stop

setup: $(VENV)/.installed assets translations

# What the tests drive from Debian: Chromium (browser tests), nginx in front of gunicorn and
# openssl for its certificate (tests/learnplatform/test_queue_bound.py); the Noto fonts that
# certificates are rendered in, and poppler's tools that read them back (courses'
# certificate_documents). Installed where missing, when we may; otherwise those tests say what to
# install and are skipped. Each entry is package:command-or-file-it-installs.
DEBIAN_PACKAGES := chromium:chromium nginx-light:/usr/sbin/nginx openssl:openssl \
	fonts-noto-core:/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf \
	fonts-noto-cjk:/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	poppler-utils:pdftotext
debian-packages:
	@missing=""; for entry in $(DEBIAN_PACKAGES); do \
		found="$${entry#*:}"; \
		command -v "$$found" >/dev/null 2>&1 || [ -e "$$found" ] || missing="$$missing $${entry%%:*}"; \
	done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "== Installing$$missing from Debian's packages for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif [ -n "$$missing" ]; then \
		echo "== Missing$$missing (apt-get install$$missing as root): those tests will be skipped"; \
	fi

# Ralph, the Learning Record Store that the xAPI tests send statements to (tests/lrs.py), in an
# environment of its own: it pins older click, FastAPI and others than the platform's. Its
# OIDC module imports requests, which its extras leave out.
LRS_VENV := .lrs-venv
lrs-venv: $(LRS_VENV)/.installed

$(LRS_VENV)/.installed:
	$(PYTHON) -m venv $(LRS_VENV)
	$(LRS_VENV)/bin/pip install --quiet --upgrade pip
	$(LRS_VENV)/bin/pip install --quiet 'ralph-malph[cli,lrs]==5.1.*' requests
	touch $@

# Catalogues: learnplatform/translations/<language>/LC_MESSAGES/messages.po, compiled to .mo here.
TRANSLATIONS := learnplatform/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
translations: $(PO_FILES:.po=.mo)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

messages: $(VENV)/.installed  ## extract the strings to translate and add the new ones to every catalogue
	$(BIN)/pybabel extract -F $(TRANSLATIONS)/babel.cfg -k _l -k lazy_ngettext:1,2 \
		--add-comments=Translators: --no-location --sort-output --project learnplatform -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/bootstrap $(VENDOR)/socket.io $(VENDOR)/chart.js $(VENDOR)/quill $(VENDOR)/scorm-again
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.rtl.min.css $(VENDOR)/bootstrap/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)/socket.io/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.js/
	cp node_modules/quill/dist/quill.js node_modules/quill/dist/quill.snow.css $(VENDOR)/quill/
	cp node_modules/scorm-again/dist/scorm12.min.js node_modules/scorm-again/dist/scorm2004.min.js \
		node_modules/scorm-again/dist/cross-frame-lms.min.js node_modules/scorm-again/dist/cross-frame-api.min.js $(VENDOR)/scorm-again/
	touch $@

db: setup  ## create or upgrade the SQLite database under instance/, and make the credentials key
	$(FLASK) db upgrade
	$(FLASK) credentials-key

demo: db  ## load the demo data set (idempotent), and write the search index again from it
	$(FLASK) demo-data
	$(FLASK) search reindex

outbox: setup  ## print the e-mails waiting in the outbox (no SMTP server configured)
	$(FLASK) outbox

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup db demo  ## requests per second and latency of the main pages under gunicorn, loaded by wrk
	@command -v wrk >/dev/null 2>&1 || if [ "$$(id -u)" = 0 ]; then \
		echo "== Installing wrk from Debian's packages for the benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "== wrk is missing: apt-get install wrk as root" && exit 1; fi
	$(BIN)/python bench/pages.py

bench-recordings: setup  ## throughput and peak memory serving a 1 GB recording, against nginx
	$(BIN)/python bench/recordings.py

bench-chat: setup  ## chat latency, throughput and losses of 100 to 2,000 Node.js WebSocket clients in one room, with and without forced disconnects, against bare Socket.IO
	$(BIN)/python bench/chat.py

bench-notifications: setup  ## a session scheduled in rooms of 100 to 2,000 members: the host's request, the worker's e-mails, delivery to a local SMTP server
	$(BIN)/python bench/notifications.py

bench-scorm: setup  ## importing SCORM packages of 100 to 5,000 files, and a learner's commits one after the other
	$(BIN)/python bench/scorm.py

bench-certificates: setup debian-packages  ## one certificate PDF in each of the seven languages, with its signed credential
	$(BIN)/python bench/certificates.py

bench-forums: setup  ## a topic of 5 posts against one of 5,000, a forum of 5,000 topics, and its search
	$(BIN)/python bench/forums.py

bench-search: setup  ## query p50/p99 over 100,000 search documents in four scripts, on SQLite and (with TEST_DATABASE_URL) PostgreSQL
	$(BIN)/python bench/search.py

bench-surveys: setup  ## a survey's results page and responses CSV with 100 and 100,000 responses, the knowledge gain and the donor report with 1,000 and 100,000 learners, on SQLite and (with TEST_DATABASE_URL) PostgreSQL
	$(BIN)/python bench/surveys.py

bench-export: setup  ## the completion records of 1,000,000 enrolments as CSV, against sqlite3 and psql
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) $(LRS_VENV) node_modules $(VENDOR) instance
