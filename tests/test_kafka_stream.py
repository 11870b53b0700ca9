"""The event stream on Kafka, through the real server: `cairn server --events-uri kafka://...`
serves a model, logs every prediction into Kafka (idempotent, batched producer) and the
in-process monitor reads them back as a member of the consumer group of the predictions topic,
committing offsets only after a window's state is stored.

- Labels posted as feedback are produced into the labels topic the same way.
- A crash in the middle of a window (the server killed, so its group member never leaves
  cleanly) loses nothing and counts nothing twice: the restarted monitor waits for the group to
  give it the topic and resumes from the committed offset.
- A broker outage while predictions keep coming: the server keeps answering, the records wait
  in the producer's buffer and reach Kafka when the broker is back, and the monitor counts all
  of them. With a prediction-log queue smaller than the outage's traffic, what does not fit is
  dropped and counted on /metrics, and windows plus drops account for every prediction.

Kafka is the broker of scripts/test_services.sh (CAIRN_TEST_KAFKA_URI), except for the outage
test, which starts its own broker with scripts/services/kafka.sh so it can stop and restart it.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from helpers import service_uri
from server_process import ServerProcess
from test_monitoring import (alerts, cancer, deploy_cancer, predict, wait_for,  # noqa: F401
                             windows)

pytestmark = pytest.mark.cairn_only

ROOT = Path(__file__).resolve().parent.parent
KAFKA_SH = ROOT / "scripts" / "services" / "kafka.sh"


def kafka_events_uri(base: str, **options) -> str:
    """`base` (kafka://host:port/prefix) with a prefix of its own and `options` as the query."""
    uri = f"{base}.{uuid.uuid4().hex[:12]}"
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"{uri}?{query}" if query else uri


def metric(url: str, name: str, **labels) -> float:
    """The sum of the series of `name` whose labels include `labels` (0 when there is none)."""
    text = requests.get(f"{url}/metrics", timeout=30).text
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if not m:
            continue
        series = m.group(1) or ""
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(m.group(2))
    return total


def open_window(url: str, deployment: str) -> int | None:
    configs = requests.get(f"{url}/api/v1/deployments/{deployment}/monitor", timeout=30).json()
    return configs["configs"][0].get("open_window", {}).get("requests")


def test_windows_through_kafka_survive_a_crash_without_loss_or_double_count(server_factory,
                                                                            cancer):  # noqa: F811
    events = kafka_events_uri(service_uri("KAFKA"), session_timeout_ms=3000)
    server = server_factory(extra_args=("--events-uri", events))
    url = server.url
    deploy_cancer(url, cancer, "streamed")
    config = {"deployment": "streamed", "window": {"size": 60}, "min_samples": 20}
    requests.post(f"{url}/api/v1/models/streamed/drift-config", json=config,
                  timeout=30).raise_for_status()
    rows = cancer["x_test"]
    predict(url, "streamed", rows[:40], "before")
    wait_for(lambda: open_window(url, "streamed") == 40, what="40 in the open window")
    assert metric(url, "cairn_event_stream_kafka_delivered_total") >= 40
    assert metric(url, "cairn_event_stream_kafka_failed_total") == 0

    server.kill()  # no clean leave: the group gives the topic on after the session timeout
    server.start()
    url = server.url
    wait_for(lambda: requests.get(f"{url}/api/v1/deployments/streamed/status").json()["state"]
             == "READY", what="the restored deployment")
    predict(url, "streamed", rows[40:140], "after")
    got = wait_for(lambda: len(windows(url, "streamed", "streamed")) == 2 and
                   windows(url, "streamed", "streamed"), timeout=60, what="two windows")
    assert [w["predictions"] for w in got] == [60, 60]
    wait_for(lambda: open_window(url, "streamed") == 20, what="20 open")
    assert metric(url, "cairn_prediction_log_dropped_total") == 0

    # Labels go to the labels topic through the same producer.
    labels = [{"request_id": f"after-{i}", "label": int(cancer["y_test"][40 + i])}
              for i in range(100)]
    resp = requests.post(f"{url}/api/v1/feedback", json={"labels": labels}, timeout=30)
    assert resp.status_code == 200 and resp.json()["matched"] == 100, resp.text
    wait_for(lambda: metric(url, "cairn_event_log_appended_total", topic="labels") == 100,
             what="100 labels in Kafka")
    assert metric(url, "cairn_event_log_dropped_total") == 0
    assert metric(url, "cairn_event_stream_kafka_failed_total") == 0


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own (so it can be stopped): (kafka URI, start, stop)."""
    if not os.environ.get("CAIRN_TEST_KAFKA_URI"):
        service_uri("KAFKA")  # skips (or fails when services are required) like the others
    state = tmp_path / "broker"

    def start() -> str:
        out = subprocess.run([str(KAFKA_SH), "start", str(state)], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        return out.strip().split("=", 1)[1]

    def stop():
        subprocess.run([str(KAFKA_SH), "stop", str(state)], check=True, timeout=60)

    uri = start()
    yield uri, start, stop
    stop()


@pytest.mark.parametrize("queue", [1000, 10])
def test_a_broker_outage_is_buffered_and_replayed_and_drops_are_counted(server_factory, cancer,  # noqa: F811
                                                                        own_broker, queue):
    base, start_broker, stop_broker = own_broker
    events = kafka_events_uri(base, delivery_timeout_ms=120000, session_timeout_ms=3000)
    server = server_factory(extra_args=("--events-uri", events,
                                        "--prediction-log-queue", str(queue)))
    url = server.url
    deploy_cancer(url, cancer, "outage")
    config = {"deployment": "outage", "window": {"size": 100}, "min_samples": 20}
    requests.post(f"{url}/api/v1/models/outage/drift-config", json=config,
                  timeout=30).raise_for_status()
    rows = cancer["x_test"]
    predict(url, "outage", rows[:20], "before")
    # A queue of 10 may already drop a few while the writer waits for Kafka's acknowledgement.
    wait_for(lambda: (open_window(url, "outage") or 0) +
             metric(url, "cairn_prediction_log_dropped_total") == 20, what="20 accounted for")
    before = open_window(url, "outage")

    stop_broker()
    # Serving goes on while Kafka is away; the log holds what it can.
    predict(url, "outage", rows[20:100], "during")
    dropped = metric(url, "cairn_prediction_log_dropped_total")
    if queue >= 80:
        assert dropped == 0
    else:
        assert dropped > 0  # what did not fit is counted, never silent
    assert open_window(url, "outage") == before

    assert start_broker() == base  # same port, same data
    expected = 100 - int(dropped)
    wait_for(lambda: (open_window(url, "outage") or 0) == expected or
             sum(w["predictions"] for w in windows(url, "outage", "outage")) == expected,
             timeout=90, what=f"{expected} predictions counted after the outage")
    assert metric(url, "cairn_prediction_log_dropped_total") == dropped
    assert metric(url, "cairn_prediction_log_failed_total") == 0
    assert metric(url, "cairn_event_stream_kafka_failed_total") == 0
    assert metric(url, "cairn_event_stream_kafka_delivered_total") >= expected


def test_two_servers_share_the_monitor_group_and_the_survivor_takes_over(server_factory, cancer,  # noqa: F811
                                                                         tmp_path):
    """Two servers on one data folder and one Kafka prefix: both serve and log, their monitors
    form one consumer group, one of them counts. Killing it hands the topic to the other, which
    resumes from the committed offset with the stored window state: windows hold every
    prediction once. (`cairn monitor` is a client of a server's API, not a standalone consumer,
    so the group's members here are the servers' in-process monitors.)"""
    events = kafka_events_uri(service_uri("KAFKA"), session_timeout_ms=3000)
    data = tmp_path / "shared"
    first = server_factory(data_dir=data, extra_args=("--events-uri", events))
    deploy_cancer(first.url, cancer, "shared")
    config = {"deployment": "shared", "window": {"size": 60}, "min_samples": 20}
    requests.post(f"{first.url}/api/v1/models/shared/drift-config", json=config,
                  timeout=30).raise_for_status()
    # Started after the deployment and the configuration exist, so it loads both.
    second = server_factory(data_dir=data, extra_args=("--events-uri", events))
    wait_for(lambda: requests.get(f"{second.url}/api/v1/deployments/shared/status").json()
             ["state"] == "READY", what="the second server's deployment")
    rows = cancer["x_test"]
    predict(first.url, "shared", rows[:20], "a")
    predict(second.url, "shared", rows[20:40], "b")
    # The group's first rebalance may move the partition while these predictions arrive: the
    # member losing it drops what it read (never stored or committed), and the new owner reads
    # from the committed offset. So the owner is the one holding the partition and all 40.
    owner = wait_for(lambda: next((s for s in (first, second)
                                   if metric(s.url, "cairn_monitor_partitions") == 1 and
                                   open_window(s.url, "shared") == 40), None),
                     timeout=60, what="one monitor owning the partition and counting all 40")
    survivor = second if owner is first else first
    assert metric(survivor.url, "cairn_monitor_partitions") == 0  # the standby owns nothing
    # Both show the open window: the owner from memory, the other as the owner published it.
    for server in (owner, survivor):
        wait_for(lambda server=server: open_window(server.url, "shared") == 40,
                 what="40 in the open window")

    owner.kill()
    predict(survivor.url, "shared", rows[40:140], "c")
    got = wait_for(lambda: len(windows(survivor.url, "shared", "shared")) == 2 and
                   windows(survivor.url, "shared", "shared"), timeout=60, what="two windows")
    assert [w["predictions"] for w in got] == [60, 60]
    wait_for(lambda: open_window(survivor.url, "shared") == 20, what="20 open")
    assert metric(survivor.url, "cairn_prediction_log_dropped_total") == 0


class MonitorWorker(ServerProcess):
    """`cairn monitor worker`: the same options as `cairn server`, in the monitor role."""

    def command(self) -> list[str]:
        server = super().command()
        assert server[1] == "server"
        return [server[0], "monitor", "worker", *server[2:]]


def test_monitor_workers_share_the_partitions_and_a_survivor_takes_over(server_factory, cancer,  # noqa: F811
                                                                         tmp_path):
    """A server that serves but does not monitor (--monitor false), and two `cairn monitor
    worker` processes on one Kafka prefix whose predictions topic has four partitions. The
    consumer group gives each worker two; every deployment's events are in one partition, so
    each deployment is counted by one worker. Killing a worker in the middle of open windows
    hands its partitions to the other, which resumes them from their committed offsets: every
    window holds its predictions exactly once."""
    events = kafka_events_uri(service_uri("KAFKA"), session_timeout_ms=3000, partitions=4)
    data = tmp_path / "shared"
    server = server_factory(data_dir=data, extra_args=("--events-uri", events, "--monitor",
                                                       "false"))
    names = [f"part{i}" for i in range(4)]
    for name in names:
        deploy_cancer(server.url, cancer, name)
        config = {"deployment": name, "window": {"size": 30}, "min_samples": 10,
                  "performance": {"metric": "accuracy", "min": 0.8, "min_labels": 10}}
        requests.post(f"{server.url}/api/v1/models/{name}/drift-config", json=config,
                      timeout=30).raise_for_status()
    workers = []
    for i in range(2):
        worker = MonitorWorker("cairn", data, extra_args=("--events-uri", events),
                               log_path=tmp_path / f"worker-{i}.log")
        worker.start()
        workers.append(worker)
    try:
        # The API is the server's: a worker answers health and metrics only.
        assert requests.get(f"{workers[0].url}/health", timeout=30).status_code == 200
        assert requests.get(f"{workers[0].url}/api/v1/deployments/list",
                            timeout=30).status_code == 404
        wait_for(lambda: [metric(w.url, "cairn_monitor_partitions") for w in workers] == [2, 2],
                 timeout=60, what="two partitions each")
        rows = cancer["x_test"]
        for name in names:
            predict(server.url, name, rows[:45], f"{name}-a")
        got = wait_for(lambda: all(len(windows(server.url, n, n)) == 1 for n in names) and
                       [windows(server.url, n, n) for n in names], timeout=60,
                       what="a window of every deployment")
        assert [[w["predictions"] for w in ws] for ws in got] == [[30]] * 4
        # The server holds no window, but shows the open ones as their workers publish them.
        for name in names:
            wait_for(lambda name=name: open_window(server.url, name) == 15,
                     what=f"the open window of {name} through the server")
        # Each event is read by one worker.
        wait_for(lambda: sum(metric(w.url, "cairn_monitor_events_total") for w in workers)
                 == 4 * 45, what="every event read once")

        # Wrong labels posted to the server (which monitors nothing) reach the worker that
        # holds the deployment through the labels topic: it raises the performance alert.
        labels = [{"request_id": f"part1-a-{i}", "label": 1 - int(cancer["y_test"][i])}
                  for i in range(30)]
        resp = requests.post(f"{server.url}/api/v1/feedback", json={"labels": labels},
                             timeout=30)
        assert resp.status_code == 200 and resp.json()["matched"] == 30, resp.text
        fired = wait_for(lambda: alerts(server.url, kind="performance"), timeout=60,
                         what="the performance alert")
        assert [a["deployment_id"] for a in fired] == [got[1][0]["deployment_id"]]

        workers[0].kill()  # no clean leave: the group waits for the session timeout
        wait_for(lambda: metric(workers[1].url, "cairn_monitor_partitions") == 4, timeout=60,
                 what="the survivor owning all four partitions")
        for name in names:
            predict(server.url, name, rows[45:90], f"{name}-b")
        got = wait_for(lambda: all(len(windows(server.url, n, n)) == 3 for n in names) and
                       [windows(server.url, n, n) for n in names], timeout=60,
                       what="three windows of every deployment")
        assert [[w["predictions"] for w in ws] for ws in got] == [[30, 30, 30]] * 4
        assert metric(server.url, "cairn_prediction_log_dropped_total") == 0
    finally:
        for worker in workers:
            worker.stop()


@pytest.mark.parametrize("uri, message", [
    ("kafka://127.0.0.1:9092/p?bogus=1", "unknown option 'bogus'"),
    ("kafka://127.0.0.1:9092/p?linger_ms=-5", "linger_ms must be an integer"),
    ("kafka://127.0.0.1:9092/bad%20prefix", "topic prefix"),
    ("kafka:///p", "names no broker"),
    ("kafka://user:pw@127.0.0.1:9092/p", "credentials go in rdkafka.sasl"),
    ("kafka://127.0.0.1:9092/p?rdkafka.no.such.property=1", "no.such.property"),
    ("kafka://127.0.0.1:1/p?request_timeout_ms=500", "no answer from 127.0.0.1:1"),
])
def test_a_bad_or_unreachable_kafka_uri_stops_the_server_with_the_reason(tmp_path, uri, message):
    from server_process import cairn_binary

    proc = subprocess.run([str(cairn_binary()), "server", "--data-dir", str(tmp_path / "data"),
                           "--port", "0", "--events-uri", uri, "--python-prestart", "false"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr, proc.stdout + proc.stderr
