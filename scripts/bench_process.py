"""Whole processes: cold start and peak RSS of `charterbot ask`, and the imports that cost time.

Each child is reaped with `os.wait4`, whose rusage is that child's own (ru_maxrss = its peak RSS).
"""

from __future__ import annotations

import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHARTERBOT = BIN / "charterbot"
QUESTION = "amazon a signé ?"
RUNS = 10
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else ""
TIMEOUT_S = 30.0
PLATFORM_MODULES = ("telegram", "slack_bolt", "slack_sdk", "aiohttp", "adapters", "websockets")


def run_child(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time to the first byte of output and to exit, peak RSS, exit status of one child.

    Peak RSS comes from GNU time (`%M`) when installed: Linux keeps ru_maxrss across execve, so a
    child forked from this (bigger) Python process would otherwise report at least its parent's size.
    """
    if TIME:
        argv = [TIME, "-f", "maxrss_kb=%M", *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None
    first_byte = float("nan")
    fd = proc.stdout.fileno()
    deadline = start + TIMEOUT_S
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 65536)
            if chunk and first_byte != first_byte:  # nan: not seen yet
                first_byte = time.perf_counter() - start
            if not chunk:
                break
    else:
        proc.kill()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    end = time.perf_counter() - start
    assert proc.stderr is not None
    errors = proc.stderr.read().decode(errors="replace")
    proc.stdout.close()
    proc.stderr.close()
    found = re.findall(r"maxrss_kb=(\d+)", errors)
    rss_kb = int(found[-1]) if found else usage.ru_maxrss
    return {"first_answer_s": first_byte, "exit_s": end, "rss_mb": rss_kb / 1024,
            "status": proc.returncode}


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def cold_start(data_dir: Path, runs: int = RUNS) -> dict:
    env = {**os.environ, "CHARTERBOT_DATA_DIR": str(data_dir), "PYTHONDONTWRITEBYTECODE": "0"}
    ask = [str(CHARTERBOT), "ask", QUESTION]
    first_ever = run_child(ask, env)  # empty data dir: compiles the index, writes the secret
    timings = [run_child(ask, env) for _ in range(runs)]
    interpreter = [run_child([sys.executable, "-c", "print(1)"], env) for _ in range(runs)]
    return {
        "command": f'charterbot ask "{QUESTION}"',
        "rss_from": "GNU time %M" if TIME else "wait4 ru_maxrss (includes the parent's size at fork)",
        "runs": runs,
        "first_run_s": first_ever["exit_s"],
        "first_answer_s": median_of(timings, "first_answer_s"),
        "exit_s": median_of(timings, "exit_s"),
        "max_exit_s": max(t["exit_s"] for t in timings),
        "rss_mb": max(t["rss_mb"] for t in timings),
        "first_run_rss_mb": first_ever["rss_mb"],
        "failures": sum(t["status"] != 0 for t in [first_ever, *timings]),
        "python_s": median_of(interpreter, "exit_s"),
        "python_rss_mb": max(t["rss_mb"] for t in interpreter),
    }


def imports(data_dir: Path) -> dict:
    """Which platform libraries `charterbot ask` loads (must be none), and the slowest imports."""
    env = {**os.environ, "CHARTERBOT_DATA_DIR": str(data_dir)}
    probe = ("import sys, contextlib, io\n"
             "from bot.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    main(['ask', {QUESTION!r}])\n"
             f"print([m for m in sys.modules if m.split('.')[0] in {PLATFORM_MODULES!r}])\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=TIMEOUT_S)
    loaded = None
    if out.returncode == 0:
        loaded = json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))
    timing = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=TIMEOUT_S)
    by_package: dict[str, int] = {}  # self time of every module, summed per top-level package
    for line in timing.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if found:
            name = found.group(3).split(".")[0]
            by_package[name] = by_package.get(name, 0) + int(found.group(1))
    slowest = sorted(by_package.items(), key=lambda kv: -kv[1])[:8]
    return {"platform_modules": loaded, "slowest_imports_ms": [(n, us / 1000) for n, us in slowest],
            "imports_ms": sum(by_package.values()) / 1000}


PHASES = """
import json, time
t0 = time.perf_counter()
from bot.model import Message
from bot.service import Charterbot
from bot.settings import Settings
t1 = time.perf_counter()
core = Charterbot(Settings.from_env())
t2 = time.perf_counter()
core.handle(Message(text=QUESTION, user="cli:ask", channel="cli"))
t3 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "core_s": t2 - t1, "answer_s": t3 - t2}))
"""


def phases(data_dir: Path, runs: int = 3) -> dict[str, float]:
    """Where a cold start goes, timed inside fresh processes like `charterbot ask` (medians)."""
    env = {**os.environ, "CHARTERBOT_DATA_DIR": str(data_dir)}
    found = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PHASES.replace("QUESTION", repr(QUESTION))],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=TIMEOUT_S)
        if out.returncode == 0:
            found.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(f[key] for f in found) for key in found[0]} if found else {}


def run() -> dict:
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-cli-") as tmp:
        result = cold_start(Path(tmp))
        result.update(imports(Path(tmp)))
        result["phases"] = phases(Path(tmp))
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
