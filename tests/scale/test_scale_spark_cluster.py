"""Past one process: `netwarden spark sweep` against a real Spark standalone cluster (a master and a worker,
each its own JVM, started from the pyspark package's launcher on loopback) gives the single-machine
sweep's groups. docs/scaling.md, "Past one machine"."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netwarden.ingest.pipeline import ingest_files
from netwarden.store import open_store

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_env() -> dict[str, str]:
    import pyspark

    env = dict(os.environ, SPARK_HOME=os.path.dirname(pyspark.__file__), SPARK_LOCAL_IP="127.0.0.1",
               PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env.pop("PYTHONSTARTUP", None)
    return env


def _daemon(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    launcher = Path(env["SPARK_HOME"]) / "bin" / "spark-class"
    return subprocess.Popen([str(launcher), *args], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for(log: Path, text: str, proc: subprocess.Popen, patience: float = 300.0) -> None:
    """Until `text` is in the daemon's log (JVM start-up on a busy machine: a patience, not a figure)."""
    end = time.monotonic() + patience
    while time.monotonic() < end:
        if text in log.read_text(errors="replace"):
            return
        assert proc.poll() is None, f"the Spark daemon stopped:\n{log.read_text(errors='replace')[-2000:]}"
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never appeared in {log}:\n{log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """spark://127.0.0.1:PORT with one registered worker (1 core, 1 GiB)."""
    d = tmp_path_factory.mktemp("cluster")
    env = _spark_env()
    port = _free_port()
    procs = []
    try:
        master = _daemon(env, d / "master.log", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                         "--port", str(port), "--webui-port", str(_free_port()))
        procs.append(master)
        _wait_for(d / "master.log", "I have been elected leader", master)
        worker = _daemon(dict(env, SPARK_WORKER_DIR=str(d / "work")), d / "worker.log",
                         "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                         "--memory", "1g", "--webui-port", str(_free_port()), f"spark://127.0.0.1:{port}")
        procs.append(worker)
        _wait_for(d / "master.log", "Registering worker", master)
        yield f"spark://127.0.0.1:{port}", env, d
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory) -> str:
    from netwarden.media.signals import read_csv
    from netwarden.store import media_banks as mb
    from netwarden.world import generate

    out = tmp_path_factory.mktemp("cw") / "w"
    generate(out, accounts=400, seed=3, networks=1, network_size=(30, 50))
    url = f"sqlite:///{out.parent / 'c.db'}"
    rows, _ = read_csv((out / "bank.csv").read_text(), "bank.csv")
    store = open_store(url)
    with store.engine.begin() as conn:
        b = mb.create_bank(conn, "demo", exist_ok=True)
        mb.add_entries(conn, b["id"], [(r.signal_type, r.signal, r.label) for r in rows])
    ingest_files(store, [out / "events.jsonl"])
    store.close()
    return url


def _sweep(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "netwarden", *args, "--json"], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_spark_sweep_on_a_standalone_cluster_finds_the_single_machine_groups(cluster, store_url):
    master, env, d = cluster
    want = _sweep(env, "sweep", "--db", store_url)
    got = _sweep(env, "spark", "sweep", "--master", master, "--db", store_url)
    assert want["groups"], "the world's network must show up as a group"
    assert sorted(sorted(g["accounts"]) for g in got["groups"]) == sorted(sorted(g["accounts"]) for g in want["groups"])
    # the work ran on the worker's executor, not in the driver: the master gave the application an executor
    assert "Launching executor" in (d / "master.log").read_text(errors="replace")
