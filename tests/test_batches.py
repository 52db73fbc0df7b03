"""Many alerts at once, with real processes: batches through the upload form and the CLI, the work
queue across two gunicorn instances sharing a Redis (cap, FIFO, queued runs visible and
cancellable), and the model's rate limit shared by both against a fake model that answers 429
beyond its limit."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile

import pytest
import redis

from tests.conftest import REPO, SAMPLES, Browser, log_of, server_env, terminal
from tests.expected_determinations import EXPECTED
from tests.fake_openai import FakeOpenAI
from tests.html import element
from webapp.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.e2e

NAMES = sorted(EXPECTED)
JSON = {"Accept": "application/json"}


def zipped(names: list[str], extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, (SAMPLES / name).read_bytes())
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def submit(session: Browser, files: list[tuple[str, bytes]], *, as_json: bool = True):
    return session.http.post("/analyses", data={"csrf_token": session.token}, headers=JSON if as_json else {},
                             files=[("alert", (name, content, "application/octet-stream")) for name, content in files])


def report(server, batch_id: str) -> dict:
    with server.client() as http:
        return http.get(f"/batches/{batch_id}.json").raise_for_status().json()


def until_finished(client: redis.Redis, server, batch_id: str, timeout: float = 60) -> dict:
    """The batch's report once every run in it has ended (each waited for on its own log)."""
    for item in report(server, batch_id)["items"]:
        terminal(client, item["run_id"], timeout)
    return report(server, batch_id)


def parser_says(content: bytes) -> str:
    from agents.alerts import AlertError, parse_alert

    with pytest.raises(AlertError) as refused:
        parse_alert(content)
    return refused.value.message


def _keys(client) -> int:
    """Keys the app stores for runs and batches (the rate limits' counters come and go with any upload)."""
    return sum(not key.startswith(b"saa:limits") for key in client.scan_iter(count=1000))


# ----------------------------------------------------------------------------- the form

def test_a_zip_runs_as_a_batch_with_refused_files_listed(browser_session, live_server, redis_client):
    names = NAMES[:4]
    response = submit(browser_session, [("four.zip", zipped(names, {"bad.xml": b"<Alert/>"}))], as_json=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/batches/")
    batch_id = response.headers["location"].rsplit("/", 1)[1]

    done = until_finished(redis_client, live_server, batch_id)
    assert done["finished"] and done["total"] == 4 and done["done"] == 4
    assert [i["filename"] for i in done["items"]] == [f"four.zip/{n}" for n in names]
    assert [i["determination"] for i in done["items"]] == [EXPECTED[n][0] for n in names]
    assert sum(done["counts"].values()) == 4 and done["counts"].get("failed", 0) == 0
    assert done["refused"] == [{"filename": "four.zip/bad.xml", "reason": parser_says(b"<Alert/>")}]

    page = live_server.client().get(f"/batches/{batch_id}").text
    assert "four.zip/bad.xml" in element(page, "batch-refused")
    assert 'data-finished="true"' in element(page, "batch-progress") and "sse-connect" not in page
    for item in done["items"]:
        assert f'href="/analyses/{item["run_id"]}"' in element(page, f"batch-item-{item['run_id']}")
    # Each analysis links back to its batch.
    assert f"/batches/{batch_id}" in live_server.client().get(done["items"][0]["url"]).text


def test_several_files_make_a_batch_and_htmx_is_sent_to_its_page(browser_session, live_server, redis_client):
    files = [(n, (SAMPLES / n).read_bytes()) for n in NAMES[4:6]]
    response = browser_session.http.post("/analyses", data={"csrf_token": browser_session.token},
                                         headers={"HX-Request": "true"},
                                         files=[("alert", (n, c, "application/xml")) for n, c in files])
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/batches/")
    done = until_finished(redis_client, live_server, response.headers["HX-Redirect"].rsplit("/", 1)[1])
    assert [i["determination"] for i in done["items"]] == [EXPECTED[n][0] for n in NAMES[4:6]]


def test_refused_uploads_store_nothing_and_say_why(browser_session, redis_client):
    before = _keys(redis_client)
    # Every file refused: the form lists each with the parser's reason.
    nothing = submit(browser_session, [("a.xml", b""), ("b.xml", b"<SMARTSAlert><AlertID>1")], as_json=False)
    assert nothing.status_code == 422
    error = element(nothing.text, "upload-error")
    assert "None of the 2 files" in error and "a.xml" in error and "The file is empty." in error
    assert "not well-formed XML" in error
    as_json = submit(browser_session, [("a.xml", b""), ("b.xml", b"<x/>")])
    assert as_json.status_code == 422 and [r["filename"] for r in as_json.json()["refused"]] == ["a.xml", "b.xml"]
    # Over the file count (BATCH_MAX_FILES, 2,000 here): refused whole, before anything is read.
    many = zipped([], {f"{i}.xml": b"" for i in range(2001)})
    too_many = submit(browser_session, [("many.zip", many)], as_json=False)
    assert too_many.status_code == 413 and "more than 2,000 files" in element(too_many.text, "upload-error")
    not_zip = submit(browser_session, [("x.zip", b"PK\x03\x04garbage")])
    assert not_zip.status_code == 422 and "not a zip archive" in not_zip.json()["error"]
    assert _keys(redis_client) == before


# ----------------------------------------------------------------------------- two instances, one queue

@pytest.fixture(scope="module")
def queue_redis(tmp_path_factory):
    with EmbeddedRedis(tmp_path_factory.mktemp("queue-redis"), persistent=False) as server:
        yield server


@pytest.fixture
def qrds(queue_redis):
    client = redis.Redis.from_url(queue_redis.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def capped_instances(start_server, queue_redis):
    """Two instances of one worker each, one run in flight per instance, steps paced to be seen."""
    env = {"MAX_RUNS_IN_FLIGHT": "1", "DEMO_STEP_DELAY": "0.1", "QUEUE_POLL_INTERVAL": "0.2"}
    return [start_server(server_env(queue_redis.url, INSTANCE_NAME=name, **env), workers=1, name=name)
            for name in ("queue-a", "queue-b")]


def test_one_queue_for_two_instances_in_order_within_the_cap(capped_instances, qrds):
    a, b = capped_instances
    names = NAMES[:6]
    response = submit(Browser(a), [("six.zip", zipped(names))])
    assert response.status_code == 201, response.text
    batch_id = response.json()["batch_id"]

    # Queued runs are visible as such: on their page (header) and in the runs list.
    last = report(a, batch_id)["items"][-1]
    page = b.client().get(last["url"]).text
    assert 'data-status="queued"' in page and "Waiting in the work queue" in element(page, "run-header")
    assert "status--queued" in b.client().get("/analyses").text

    done = until_finished(qrds, a, batch_id)
    assert [i["determination"] for i in done["items"]] == [EXPECTED[n][0] for n in names]
    spans = []
    for item in done["items"]:
        events = log_of(qrds, item["run_id"])
        spans.append((next(e.ts for e in events if e.type == "run_started"), events[-1].ts))
    # Never more than one run per instance: at most two at any moment, and both instances worked.
    overlap = max(sum(start <= moment < end for start, end in spans) for moment, _end in spans)
    assert overlap == 2
    # In order: a run starts only after every run two places ahead of it has started.
    starts = [start for start, _end in spans]
    assert all(earlier < later for earlier, later in zip(starts, starts[2:], strict=False)), starts


@pytest.fixture(scope="module")
def held_instances(start_server, tmp_path_factory):
    """Two instances of one worker each, one run in flight per instance, on a Redis of their own,
    each step taking two seconds: runs that hold the two slots cannot end while a test acts on a
    third one waiting (capped_instances' runs end in about a second, which a slow sign-in on a busy
    machine outlasted: seed 2131435619)."""
    with EmbeddedRedis(tmp_path_factory.mktemp("held-redis"), persistent=False) as own:
        env = {"MAX_RUNS_IN_FLIGHT": "1", "DEMO_STEP_DELAY": "2", "QUEUE_POLL_INTERVAL": "0.2"}
        instances = [start_server(server_env(own.url, INSTANCE_NAME=name, **env), workers=1, name=name)
                     for name in ("held-a", "held-b")]
        client = redis.Redis.from_url(own.url)
        yield instances, client
        client.close()


def test_a_queued_run_can_be_cancelled_before_it_ever_runs(held_instances):
    (a, b), rds = held_instances
    analyst = Browser(b)  # signed in first: nothing slow between the submission and the cancel
    response = submit(Browser(a), [("three.zip", zipped(NAMES[6:9]))])
    batch_id = response.json()["batch_id"]
    items = report(a, batch_id)["items"]
    running, waiting = [item["run_id"] for item in items[:2]], items[-1]["run_id"]  # two slots: the third waits

    def cancel(run_id: str) -> None:
        response = analyst.http.post(f"/analyses/{run_id}/cancel", data={"csrf_token": analyst.token,
                                                                          "confirmed": "yes"})
        assert response.status_code == 303

    cancel(waiting)
    assert [e.type for e in log_of(rds, waiting)] == ["run_cancelled"]
    for run_id in running:  # not to wait for them: cancelling a running run ends it within a step
        cancel(run_id)
    done = until_finished(rds, a, batch_id)
    assert done["counts"]["cancelled"] == 3 and done["done"] == 3
    assert [e.type for e in log_of(rds, waiting)] == ["run_cancelled"]  # and it never ran afterwards
    assert all(log_of(rds, run_id)[0].type == "run_started" for run_id in running)  # they held the slots


# ----------------------------------------------------------------------------- the model's shared limit

@pytest.fixture(scope="module")
def limited_llm():
    server = FakeOpenAI(requests_per_second=4).start()
    yield server
    server.stop()


def test_two_instances_share_the_models_rate_limit_without_a_429(start_server, tmp_path_factory, limited_llm):
    own = EmbeddedRedis(tmp_path_factory.mktemp("limit-redis"), persistent=False)
    own.start()
    try:
        env = {"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": limited_llm.url, "OPENAI_MODEL": "limited-model",
               "LLM_REQUESTS_PER_MINUTE": "240"}  # the fake's 4 a second
        instances = [start_server(server_env(own.url, INSTANCE_NAME=f"limit-{n}", **env), workers=1,
                                  name=f"limit-{n}") for n in "ab"]
        client = redis.Redis.from_url(own.url)
        batches = [submit(Browser(server), [("six.zip", zipped(NAMES[i * 6:i * 6 + 6]))]).json()["batch_id"]
                   for i, server in enumerate(instances)]
        started = time.monotonic()
        done = [until_finished(client, server, batch_id, timeout=90) for server, batch_id in zip(instances, batches,
                                                                                                  strict=True)]
        assert all(d["done"] == 6 and d["counts"].get("failed", 0) == 0 for d in done)
        assert limited_llm.rate_limited == 0  # twelve at once would have met 429s without the shared booking
        decided = [e for d in done for i in d["items"] for e in log_of(client, i["run_id"]) if e.type == "decision"]
        assert [e.data["analyst"] for e in decided] == ["limited-model"] * 12
        # Booked one every 250 ms: twelve requests span 2.75 s (less the network's jitter); at once, they
        # would have arrived within a few milliseconds of each other.
        arrivals = sorted(limited_llm.arrivals[-12:])
        assert arrivals[-1] - arrivals[0] >= 2.5 and time.monotonic() - started < 60
        client.close()
    finally:
        own.stop()


# ----------------------------------------------------------------------------- the CLI

def test_the_cli_submits_a_folder_and_ends_with_a_summary(live_server, tmp_path):
    for name in NAMES[9:12]:
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    (tmp_path / "broken.xml").write_bytes(b"<SMARTSAlert>")
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "analyse", str(tmp_path), "--server",
                             live_server.url], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "COLUMNS": "100",
                                 "SMARTS_ANALYZER_TOKEN": live_server.identity.tokens["analyst"]})
    assert result.returncode == 0, result.stderr
    assert "refused: " in result.stderr and "broken.xml" in result.stderr
    assert f"Batch of 3 alerts: {live_server.url}/batches/" in result.stdout
    assert "3 of 3 analysed" in result.stdout
    expected = {label: sum(EXPECTED[n][0] == state for n in NAMES[9:12])
                for state, label in (("ESCALATE", "Escalate"), ("CLOSE", "Close"),
                                     ("NEEDS_HUMAN_REVIEW", "Needs human review"))}
    rows = {line.strip("│┃ ").split("│")[0].strip(): line.split("│")[-2].strip()
            for line in result.stdout.splitlines() if line.count("│") == 3}
    assert {label: int(rows[label]) for label in expected} == expected
    assert rows["Failed"] == "0" and rows["Refused files"] == "1"


def test_the_cli_says_when_there_is_no_server(tmp_path):
    (tmp_path / "a.xml").write_bytes((SAMPLES / NAMES[0]).read_bytes())
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "analyse", str(tmp_path), "--server",
                             "http://127.0.0.1:9"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "could not reach http://127.0.0.1:9" in result.stderr
