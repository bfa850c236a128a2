"""Benchmark: the web app under gunicorn, on PostgreSQL, with concurrent logged-in clients.

Not a test. Builds a database (the two seed trials plus the shared ClinicalTrials.gov trials, all open for
screening; a clinician with saved screenings; a coordinator with referrals), serves it with gunicorn as in
production (DEBUG=0), logs in, and drives N concurrent clients for a fixed time per endpoint:

    evaluate       the questionnaire's live htmx evaluation (POST, HX-Request headers, results panel only)
    questionnaire  the full questionnaire page (GET)
    save           "Save screening" on the questionnaire (POST, answered by a redirect): a snapshot of every trial.
                   Not run unless asked for (--endpoints ...,save): each request stores a snapshot; it runs last,
                   against a screening of its own, so the other endpoints' figures do not depend on it
    screenings     "My screenings" (GET /screenings/)
    candidates     the coordinator's candidate queue (GET /candidates/)
    home           the home page, the trivial authenticated page the others are compared with

and prints per endpoint and client count: req/s, p50/p95/p99 latency, errors (non-2xx or failed requests),
mean response bytes, and the throughput as a ratio of the home page's at the same client count.

    .venv/bin/python scripts/bench_web.py [--trials N] [--clients 1,4,16] [--seconds 10] [--referrals 1000]

The database is DATABASE_URL if set, else a fresh `prescreen_bench_<pid>` on 127.0.0.1:5432 (user postgres),
dropped at the end. gunicorn is always stopped at the end, also on errors and Ctrl-C. The clients run on the
same machine as the server and share its cores: compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
CLINICIAN = "bench-clinician"
COORDINATOR = "bench-coordinator"
ENDPOINTS = ("evaluate", "questionnaire", "screenings", "candidates", "home", "save")
DEFAULT_ENDPOINTS = ("evaluate", "questionnaire", "screenings", "candidates", "home")
REDIRECTED = {"save"}  # answered 302 (to the questionnaire) when it worked
BASELINE = "home"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Setup: runs in a child process with Django configured (python scripts/bench_web.py --setup ...).


def setup_data(spec: dict) -> dict:
    """Open every trial, create the users, the saved screenings and the referrals; return what the clients need."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from prescreen.roles import CLINICIAN as CLINICIAN_ROLE
    from prescreen.roles import COORDINATOR as COORDINATOR_ROLE
    from referrals.models import Referral
    from screening.models import Screening
    from screening.pipeline import screen
    from trials.models import CatalogueVersion, Trial

    Trial.objects.update(open_for_screening=True)
    CatalogueVersion.bump()  # a queryset update sends no signal
    trials = list(Trial.objects.order_by("nct_id"))
    nct_ids = [t.nct_id for t in trials]

    User = get_user_model()
    clinician = User.objects.create_user(CLINICIAN, password=spec["clinician_password"])
    clinician.groups.add(Group.objects.get(name=CLINICIAN_ROLE))
    coordinator = User.objects.create_user(COORDINATOR, password=spec["coordinator_password"])
    coordinator.groups.add(Group.objects.get(name=COORDINATOR_ROLE))
    for trial in trials:  # from the trial's side, as the admin does: its history records the change
        trial.coordinators.add(coordinator)

    # Saved screenings, as the questionnaire's "Save screening" stores them: screen, then save_snapshot.
    today = timezone.localdate()
    screenings = []
    for i in range(spec["screenings"]):
        answers = {
            "age": 10 + i % 40,
            "sex": "female" if i % 2 else "male",
            "t1d_diagnosis": True,
            "t1d_diagnosis_date": (today - timedelta(days=20 + 7 * i)).isoformat(),
            "height": 150 + i % 30,
            "weight": 45 + i % 40,
            "consent_possible": True,
            "diabetic_ketoacidosis": False,
            "hiv": False,
            "hepatitis_b": False,
            "malignancy": i % 5 == 0,
        }
        screening = Screening.objects.create(patient_ref=f"BENCH-{i + 1:03d}", clinician=clinician)
        screening.trials.set(trials)
        results = screen(as_of=today, answers=answers, trials=nct_ids, screen_with_problems=True).results
        screening.save_snapshot(answers, results, clinician, today)
        screenings.append(screening)

    # Referrals to the coordinator's trials, through the model's verb (a justification covers "not eligible").
    made = 0
    for trial in trials:
        for screening in screenings:
            if made >= spec["referrals"]:
                break
            Referral.create_from(screening, trial, by=clinician, note="bench", justification="benchmark referral")
            made += 1
    return {
        "trials": len(trials),
        "screenings": len(screenings),
        "referrals": made,
        "screening_pk": screenings[0].pk if screenings else None,
        "save_screening_pk": screenings[-1].pk if screenings else None,
    }


# --------------------------------------------------------------------------------------------
# The database and the server.


def pg_connect(dbname="postgres"):
    import psycopg

    return psycopg.connect(dbname=dbname, autocommit=True, **PG)


def create_database(name: str) -> str:
    with pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def drop_database(name: str) -> None:
    with pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log(f"  manage.py {args[0]}: {time.monotonic() - started:.1f} s")


def first_studies(path: Path, n: int, into: Path) -> Path:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        studies = json.load(f)["studies"][:n]
    out = into / f"first_{n}_studies.json"
    out.write_text(json.dumps({"studies": studies}))
    return out


class Server:
    def __init__(self, env: dict, workers: int, port: int, logfile: Path):
        self.port = port
        self.logfile = logfile
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "prescreen.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--error-logfile",
                str(logfile),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/", headers={"X-Forwarded-Proto": "https"})
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------------------------
# The clients.


class FormFields(HTMLParser):
    """The fields a browser (and htmx) submits for the form with id `form_id`: what is filled, checked or selected."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_options: list[tuple[str, bool]] = []
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            # A box or radio without a value attribute submits "on"; one with value="" (a radio's "Not answered") "".
            default = "on" if kind in ("checkbox", "radio") else ""
            self.fields.append((name, a["value"] if a.get("value") is not None else default))
        elif tag == "select" and name:
            self.select, self.select_options = name, []
        elif tag == "option" and self.select is not None:
            self.select_options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data):
        if self.textarea is not None:
            self.fields[-1] = (self.textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = [v for v, selected in self.select_options if selected] or [v for v, _ in self.select_options[:1]]
            self.fields.extend((self.select, v) for v in chosen)
            self.select = None


class Session:
    """A logged-in browser: its cookies (set by hand: they are Secure, the loopback is plain HTTP behind a
    pretend TLS proxy, X-Forwarded-Proto: https, as in production)."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def headers(self, extra=None) -> dict:
        headers = {"X-Forwarded-Proto": "https", "User-Agent": "prescreen-bench-web"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=self.headers(headers))
            response = conn.getresponse()
            data = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response, data
        finally:
            if own:
                conn.close()

    def post_form(self, path, fields, extra=None):
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin,
            "Referer": self.origin + path,
        }
        return self.request("POST", path, urlencode(fields), headers | (extra or {}))

    def login(self, username, password) -> None:
        status, _, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: HTTP {status}")
        fields = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
        status, response, _ = self.post_form("/login/", fields)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login as {username} failed: HTTP {status} {response.reason}")


def evaluate_request(session: Session, screening_pk: int):
    """The questionnaire's live evaluation exactly as htmx sends it: the whole form, urlencoded, with htmx's headers
    (hx-post on #questionnaire, hx-target #results; the trigger is an input event on the form)."""
    path = f"/screenings/{screening_pk}/"
    status, _, page = session.request("GET", path)
    if status != 200:
        raise RuntimeError(f"questionnaire: HTTP {status}")
    parser = FormFields("questionnaire")
    parser.feed(page.decode("utf-8"))
    if not any(name == "csrfmiddlewaretoken" for name, _ in parser.fields):
        raise RuntimeError("questionnaire: no form #questionnaire with a CSRF token")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": session.origin,
        "Referer": session.origin + path,
        "HX-Request": "true",
        "HX-Current-URL": session.origin + path,
        "HX-Target": "results",
        "HX-Trigger": "questionnaire",
    }
    body = urlencode(parser.fields)
    status, _, panel = session.request("POST", path, body, headers)
    if status != 200 or not panel.lstrip().startswith(b'<section id="results"'):
        raise RuntimeError(f"evaluate: HTTP {status}, not the results panel: {panel[:200]!r}")
    return path, body, headers, len(parser.fields)


class Run:
    def __init__(self):
        self.latencies: list[float] = []
        self.sizes: list[int] = []
        self.errors = 0
        self.error_kinds: dict[str, int] = {}
        self.lock = threading.Lock()
        self.elapsed = 0.0

    def add(self, latency, size, error=None):
        with self.lock:
            self.latencies.append(latency)
            self.sizes.append(size)
            if error:
                self.errors += 1
                self.error_kinds[error] = self.error_kinds.get(error, 0) + 1


def drive(
    session: Session, method, path, body, headers, clients: int, seconds: float, once=False, redirect=False
) -> Run:
    """`clients` threads, each on its own connection, repeat the request until `seconds` have passed
    (each one request only if `once`)."""
    run = Run()
    start = time.monotonic()
    deadline = start + seconds
    all_headers = session.headers(headers)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", session.port, timeout=session.timeout)
        try:
            while once or time.monotonic() < deadline:
                t0 = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=all_headers)
                    response = conn.getresponse()
                    data = response.read()
                    latency = time.perf_counter() - t0
                    ok = response.status == 302 if redirect else 200 <= response.status < 300
                    run.add(latency, len(data), None if ok else f"HTTP {response.status}")
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    run.add(time.perf_counter() - t0, 0, type(exc).__name__)
                if once:
                    break
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.elapsed = time.monotonic() - start
    return run


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summarise(run: Run) -> dict:
    lat = sorted(run.latencies)
    return {
        "requests": len(lat),
        "rps": len(lat) / run.elapsed if run.elapsed else 0.0,
        "p50": pct(lat, 50) * 1000,
        "p95": pct(lat, 95) * 1000,
        "p99": pct(lat, 99) * 1000,
        "errors": run.errors,
        "error_kinds": run.error_kinds,
        "bytes": statistics.fmean(run.sizes) if run.sizes else 0.0,
    }


def table(rows: list[dict]) -> str:
    head = (
        f"{'endpoint':<14}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'reqs':>7}{'bytes':>10}{'vs home':>9}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        ratio = f"{r['ratio']:.3f}" if r.get("ratio") is not None else "-"
        out.append(
            f"{r['endpoint']:<14}{r['clients']:>8}{r['rps']:>9.1f}{r['p50']:>9.0f}{r['p95']:>9.0f}{r['p99']:>9.0f}"
            f"{r['errors']:>8}{r['requests']:>7}{r['bytes']:>10.0f}{ratio:>9}"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, help="import only the first N shared studies (2: the seed trials only)")
    parser.add_argument("--clients", default="1,4,16", help="comma-separated client counts (default 1,4,16)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per endpoint and client count")
    parser.add_argument("--referrals", type=int, default=1000, help="referrals for the coordinator")
    parser.add_argument("--screenings", type=int, default=25, help="saved screenings of the clinician")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before one request counts as failed")
    parser.add_argument(
        "--endpoints",
        default=",".join(DEFAULT_ENDPOINTS),
        help="comma-separated subset of " + ", ".join(ENDPOINTS) + " (default: all but save)",
    )
    parser.add_argument("--setup", help=argparse.SUPPRESS)  # internal: the child process that builds the data
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown or not args.clients or min(args.clients) < 1:
        parser.error(f"bad --endpoints {sorted(unknown)} or --clients")
    if BASELINE not in args.endpoints:
        args.endpoints.append(BASELINE)
    return args


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.setup:
        print(json.dumps(setup_data(json.loads(args.setup))))
        return 0

    # Ctrl-C and SIGTERM both unwind through the finally blocks below (gunicorn stopped, database dropped).
    signal.signal(signal.SIGTERM, interrupted)
    started = time.monotonic()
    shared = Path(os.environ.get("PRESCREEN_SHARED_DIR", ROOT.parent / "shared"))
    broad = shared / "data" / "ctgov" / "ctgov_v2_broad.json.gz"
    if (args.trials is None or args.trials > 2) and not broad.is_file():
        log(f"{broad} not found: set PRESCREEN_SHARED_DIR to the folder holding data/ctgov (or use --trials 2)")
        return 2
    own_db = None
    server = None
    tmp = tempfile.TemporaryDirectory(prefix="bench_web_")
    rows: list[dict] = []
    try:
        if os.environ.get("DATABASE_URL"):
            database_url = os.environ["DATABASE_URL"]
            log("Database: DATABASE_URL")
        else:
            own_db = f"prescreen_bench_{os.getpid()}"
            database_url = create_database(own_db)
            log(f"Database: {own_db} (dropped at the end)")
        env = os.environ | {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "prescreen.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-web-" + secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }

        log("Setup:")
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")  # DEBUG=0 serves the hashed names from the manifest
        manage(env, "load_seed_trials")
        if args.trials is None:
            manage(env, "import_ctgov", str(broad))
        elif args.trials > 2:
            manage(env, "import_ctgov", str(first_studies(broad, args.trials, Path(tmp.name))))
        spec = {
            "screenings": max(1, args.screenings),
            "referrals": args.referrals,
            "clinician_password": secrets.token_urlsafe(16),
            "coordinator_password": secrets.token_urlsafe(16),
        }
        t0 = time.monotonic()
        out = subprocess.run(
            [sys.executable, __file__, "--setup", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        data = json.loads(out.stdout.strip().splitlines()[-1])
        log(f"  users, {data['screenings']} screenings, {data['referrals']} referrals: {time.monotonic() - t0:.1f} s")

        port = free_port()
        server = Server(env, args.workers, port, Path(tmp.name) / "gunicorn.log")
        server.wait_ready()
        log(f"gunicorn: {args.workers} workers on 127.0.0.1:{port}")

        clinician = Session(port, args.timeout)
        clinician.login(CLINICIAN, spec["clinician_password"])
        coordinator = Session(port, args.timeout)
        coordinator.login(COORDINATOR, spec["coordinator_password"])
        pk = data["screening_pk"]
        eval_path, eval_body, eval_headers, nfields = evaluate_request(clinician, pk)
        requests_ = {
            "evaluate": (clinician, "POST", eval_path, eval_body, eval_headers),
            "questionnaire": (clinician, "GET", f"/screenings/{pk}/", None, None),
            "screenings": (clinician, "GET", "/screenings/", None, None),
            "candidates": (coordinator, "GET", "/candidates/", None, None),
            "home": (clinician, "GET", "/", None, None),
        }
        if "save" in args.endpoints:
            # The questionnaire's form as the browser submits it with "Save screening" (no htmx), on its own screening.
            save_path, save_body, save_headers, _ = evaluate_request(clinician, data["save_screening_pk"])
            plain = {k: v for k, v in save_headers.items() if not k.startswith("HX-")}
            requests_["save"] = (clinician, "POST", save_path, save_body + "&save=1", plain)
        print(
            f"bench-web: {data['trials']} trials open for screening, {data['screenings']} saved screenings, "
            f"{data['referrals']} referrals; evaluate posts {nfields} fields; gunicorn {args.workers} workers "
            f"(sync), {os.cpu_count()} cores shared by server and clients; {args.seconds:g} s per run",
            flush=True,
        )

        # Warm-up, not measured: each worker builds its per-process caches (catalogue, rules) on first use.
        for name in args.endpoints:
            drive(*requests_[name], clients=args.workers, seconds=0, once=True, redirect=name in REDIRECTED)

        for clients in args.clients:
            base = None
            # Saving last: each save adds a snapshot, which the other endpoints must not be measured with.
            order = [BASELINE] + [e for e in args.endpoints if e not in (BASELINE, "save")]
            order += ["save"] if "save" in args.endpoints else []
            batch = []
            for name in order:
                session, method, path, body, headers = requests_[name]
                try:
                    run = drive(
                        session, method, path, body, headers, clients, args.seconds, redirect=name in REDIRECTED
                    )
                    s = summarise(run)
                except Exception as exc:  # report it and go on with the other endpoints
                    log(f"{name} x{clients}: {type(exc).__name__}: {exc}")
                    continue
                s |= {"endpoint": name, "clients": clients}
                if name == BASELINE:
                    base = s["rps"]
                s["ratio"] = s["rps"] / base if base else None
                if s["error_kinds"]:
                    log(f"  {name} x{clients} errors: {s['error_kinds']}")
                log(f"  {name:<14} x{clients:<3} {s['rps']:8.1f} req/s  p50 {s['p50']:7.0f} ms  errors {s['errors']}")
                batch.append(s)
            rows.extend(sorted(batch, key=lambda r: order.index(r["endpoint"])))
        return 1 if any(r["errors"] for r in rows) else 0
    except KeyboardInterrupt:
        log("Interrupted.")
        return 130
    except subprocess.CalledProcessError as exc:
        log(f"Setup failed: {' '.join(map(str, exc.cmd[:3]))}… exited with {exc.returncode}")
        if exc.stderr:
            log(exc.stderr[-3000:])
        return 2
    except Exception as exc:
        log(f"bench-web failed: {type(exc).__name__}: {exc}")
        if server is not None:
            log(server.log_tail())
        return 2
    finally:
        if rows:
            print(table(rows), flush=True)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        if server is not None:
            server.stop()
        if own_db:
            try:
                drop_database(own_db)
            except Exception as exc:
                log(f"Could not drop {own_db}: {exc}")
        tmp.cleanup()
        log(f"Total time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
