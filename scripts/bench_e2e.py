"""End to end through the adapters: update in, reply out, against the fake platform servers.

Each adapter runs as its own process, exactly as deployed (`charterbot run telegram`, long polling;
`charterbot run slack --http`, Events API), talking to the fake servers of its tests
(tests/fakes/telegram_api.py, tests/fakes/slack_api.py) on 127.0.0.1. Simulated sellers each send a
question and wait for its reply before sending the next (closed loop); every question comes from a
new seller id in its own private chat, so the core's per-seller rate limit never applies and every
reply is attributed without doubt. Counted: replies per second, update-to-reply latency, replies
lost (none within REPLY_TIMEOUT_S, nor by the end) and duplicated (the same text twice in a chat).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fakes

CHARTERBOT = Path(sys.executable).parent / "charterbot"
SELLERS = 20
MESSAGES_PER_SELLER = 25
CAP_S = 60.0              # no new question after this many seconds of load
REPLY_TIMEOUT_S = 10.0    # a reply later than this counts as lost (and is still watched for)
SETTLE_S = 1.5            # after the last reply, how long late or duplicate replies may show up
READY_TIMEOUT_S = 30.0
IDLE_S = 2.0              # idle time before the idle RSS is read
SINGLE_SELLER_MESSAGES = 20
# Diagnostic runs: the same adapter with one limit lifted in its process (the code is not changed),
# to show how much of a figure that limit explains.
UNLIMITED_TELEGRAM = ("import sys; from telegram.ext import AIORateLimiter; import adapters.telegram as t; "
                      "t.AIORateLimiter = lambda **kw: AIORateLimiter(overall_max_rate=0, group_max_rate=0, "
                      "**kw); from bot.cli import main; sys.exit(main())")
SLACK_BACKLOG = 128
WIDE_BACKLOG_SLACK = ("import sys; import adapters.slack_http as h; "
                      f"h.ThreadingWSGIServer.request_queue_size = {SLACK_BACKLOG}; "
                      "from bot.cli import main; sys.exit(main())")
SLACK_SECRET = "bench-signing-secret-not-real"


@dataclass
class Load:
    """What one load phase saw."""

    sellers: int
    planned: int
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    sent: int = 0
    late: int = 0
    started: float = 0.0
    ended: float = 0.0
    chats: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # deliveries the adapter refused or dropped

    def summary(self, replies: dict[Any, list[tuple[float, str]]]) -> dict[str, Any]:
        got = [replies.get(chat, []) for chat in self.chats]
        lost = sum(not r for r in got)
        duplicated = sum(len(r) - len({text for _, text in r}) for r in got)
        parts = sum(len({text for _, text in r}) for r in got)
        ordered = sorted(self.latencies)
        span = self.ended - self.started
        return {
            "sellers": self.sellers, "planned": self.planned, "sent": self.sent,
            "replied": len(ordered), "late": self.late, "lost": lost + len(self.errors),
            "duplicated": duplicated, "delivery_errors": len(self.errors), "errors": self.errors[:5],
            "messages_sent_by_bot": parts,
            "seconds": span, "per_second": len(ordered) / span if span > 0 else 0.0,
            "p50_ms": _pct(ordered, 0.50), "p90_ms": _pct(ordered, 0.90), "p99_ms": _pct(ordered, 0.99),
            "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
            "ack_p50_ms": _pct(sorted(self.acks), 0.50), "ack_p99_ms": _pct(sorted(self.acks), 0.99),
        }


def _pct(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def questions() -> list[str]:
    out = []
    for name in ("questions.jsonl", "questions_heldout.jsonl"):
        lines = (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["q"] for line in lines if line.strip()]
    return [q for q in out if q.strip() and not q.startswith("/")]


def rss_mb(pid: int) -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of a process, in MB."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def compiled_data_dir(parent: Path) -> Path:
    """A data dir holding the compiled knowledge index, so the adapter starts like a restart."""
    from bot.service import Charterbot
    from bot.settings import Settings

    data = parent / "data"
    Charterbot(Settings(data_dir=data)).close()
    return data


class RssWatch:
    """Samples a process's RSS every 0.2 s in a thread; `peak` is the highest VmRSS seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb(self.pid).get("VmRSS", 0.0))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def _stop_process(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _log_problems(path: Path) -> list[str]:
    """The adapter's ERROR / WARNING log lines (first line of each)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if " ERROR " in line or " WARNING " in line]


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- Telegram --------------------------------------------------------------------------------------

def telegram(sellers: int = SELLERS, per_seller: int = MESSAGES_PER_SELLER, cap_s: float = CAP_S,
             diagnostic: str = "") -> dict:
    """The Telegram adapter under load; `diagnostic`: Python code run instead of the CLI."""
    return asyncio.run(_telegram(sellers, per_seller, cap_s, diagnostic))


def _command(diagnostic: str) -> list[str]:
    return [sys.executable, "-c", diagnostic] if diagnostic else [str(CHARTERBOT)]


async def _telegram(sellers: int, per_seller: int, cap_s: float, diagnostic: str) -> dict:
    from tests.fakes.telegram_api import TOKEN, FakeBotApi, text_update

    class TimedBotApi(FakeBotApi):
        def __init__(self) -> None:
            super().__init__()
            self.replies: dict[int, list[tuple[float, str]]] = defaultdict(list)
            self.waiters: dict[int, asyncio.Future[float]] = {}

        def _record(self, method: str, params: dict[str, Any]) -> None:
            super()._record(method, params)
            if method == "sendMessage" and "_rejected" not in params:
                now, chat = time.monotonic(), int(params["chat_id"])
                self.replies[chat].append((now, str(params.get("text", ""))))
                waiter = self.waiters.get(chat)
                if waiter is not None and not waiter.done():
                    waiter.set_result(now)

    texts = questions()
    api = TimedBotApi()
    await api.start()
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-tg-") as tmp:
        data = compiled_data_dir(Path(tmp))
        log_path = Path(tmp) / "adapter.log"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
               "CHARTERBOT_DATA_DIR": str(data), "NO_PROXY": "127.0.0.1,localhost"}
        for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "PORT"):
            env.pop(name, None)
        with log_path.open("wb") as log_file:
            started = time.monotonic()
            proc = subprocess.Popen([*_command(diagnostic), "run", "telegram"], cwd=ROOT, env=env,
                                    stdout=log_file, stderr=subprocess.STDOUT)
        result: dict[str, Any] = {"adapter": "Telegram", "mode": "long polling (`charterbot run telegram`)"}
        try:
            while not api.called("getUpdates"):
                if proc.poll() is not None or time.monotonic() - started > READY_TIMEOUT_S:
                    raise RuntimeError(f"the Telegram adapter did not start: {_tail(log_path)}")
                await asyncio.sleep(0.02)
            result["ready_s"] = time.monotonic() - started
            await asyncio.sleep(IDLE_S)
            result["idle_rss_mb"] = rss_mb(proc.pid).get("VmRSS", float("nan"))
            watch = RssWatch(proc.pid)
            next_chat = iter(range(10_000_000, 20_000_000))

            async def run_load(count: int, each: int, cap: float) -> Load:
                load = Load(count, count * each)
                stop_at = time.monotonic() + cap

                async def seller(k: int) -> None:
                    for j in range(each):
                        if time.monotonic() > stop_at:
                            return
                        chat = next(next_chat)
                        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
                        api.waiters[chat] = waiter
                        load.chats.append(chat)
                        sent_at = time.monotonic()
                        api.push(text_update(texts[(k * each + j) % len(texts)], chat_id=chat, user_id=chat))
                        load.sent += 1
                        try:
                            replied_at = await asyncio.wait_for(asyncio.shield(waiter), REPLY_TIMEOUT_S)
                        except TimeoutError:
                            load.late += 1
                            continue
                        load.latencies.append(replied_at - sent_at)
                        load.ended = max(load.ended, replied_at)

                load.started = time.monotonic()
                await asyncio.gather(*(seller(k) for k in range(count)))
                await asyncio.sleep(SETTLE_S)
                return load

            single = await run_load(1, SINGLE_SELLER_MESSAGES, cap_s)
            result["single"] = single.summary(api.replies)
            load = await run_load(sellers, per_seller, cap_s)
            result["load"] = load.summary(api.replies)
            result["load_rss_mb"] = max(watch.stop(), rss_mb(proc.pid).get("VmRSS", 0.0))
            result["peak_rss_mb"] = rss_mb(proc.pid).get("VmHWM", float("nan"))
            result["log_problems_under_load"] = _log_problems(log_path)
        finally:
            result["exit_code"] = _stop_process(proc)
            await api.stop()
            result["log_problems_at_stop"] = _log_problems(log_path)[
                len(result.get("log_problems_under_load", [])):]
            if os.environ.get("BENCH_KEEP_LOG"):
                print(log_path.read_text(errors="replace"), file=sys.stderr)
    return result


# --- Slack -----------------------------------------------------------------------------------------

def _sign(body: bytes, timestamp: int) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()


def slack(sellers: int = SELLERS, per_seller: int = MESSAGES_PER_SELLER, cap_s: float = CAP_S,
          diagnostic: str = "") -> dict:
    """The Slack adapter (HTTP mode) under load; `diagnostic`: Python code run instead of the CLI."""
    from tests.fakes.slack_api import APP_ID, BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlackApi

    class TimedSlackApi(FakeSlackApi):
        def __init__(self) -> None:
            super().__init__()
            self.replies: dict[str, list[tuple[float, str]]] = defaultdict(list)
            self.waiters: dict[str, threading.Event] = {}
            self.replied_at: dict[str, float] = {}

        def record(self, method: str, params: dict[str, Any], token: str | None) -> None:
            super().record(method, params, token)
            if method == "chat.postMessage":
                now, channel = time.monotonic(), str(params.get("channel"))
                with self._changed:
                    self.replies[channel].append((now, str(params.get("text", ""))))
                    self.replied_at.setdefault(channel, now)
                    waiter = self.waiters.get(channel)
                if waiter is not None:
                    waiter.set()

    texts = questions()
    api = TimedSlackApi().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    counter = iter(range(1, 10_000_000))
    lock = threading.Lock()

    def post_dm(text: str) -> tuple[str, float, float]:
        with lock:
            n = next(counter)
        user, channel, ts = f"U{n:08d}", f"D{n:08d}", f"1700000200.{n:06d}"
        event = {"type": "message", "channel_type": "im", "channel": channel, "user": user,
                 "text": text, "ts": ts, "event_ts": ts}
        body = json.dumps({"token": "legacy", "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
                           "type": "event_callback", "event_id": f"Ev{n:010d}",
                           "event_time": int(time.time()),
                           "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                               "is_bot": True}]}).encode()
        stamp = int(time.time())
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "content-type": "application/json", "x-slack-request-timestamp": str(stamp),
            "x-slack-signature": _sign(body, stamp)})
        api.waiters[channel] = threading.Event()
        sent_at = time.monotonic()
        with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_S) as response:
            response.read()
        return channel, sent_at, time.monotonic() - sent_at

    result: dict[str, Any] = {"adapter": "Slack",
                              "mode": "Events API over HTTP (`charterbot run slack --http`)"}
    with tempfile.TemporaryDirectory(prefix="charterbot-bench-slack-") as tmp:
        data = compiled_data_dir(Path(tmp))
        log_path = Path(tmp) / "adapter.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env |= {"SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "PORT": str(port),
                "SLACK_API_URL": api.base_url, "CHARTERBOT_DATA_DIR": str(data),
                "NO_PROXY": "127.0.0.1,localhost"}
        with log_path.open("wb") as log_file:
            started = time.monotonic()
            proc = subprocess.Popen([*_command(diagnostic), "run", "slack", "--http"], cwd=ROOT, env=env,
                                    stdout=log_file, stderr=subprocess.STDOUT)
        try:
            while not _healthy(port):
                if proc.poll() is not None or time.monotonic() - started > READY_TIMEOUT_S:
                    raise RuntimeError(f"the Slack adapter did not start: {_tail(log_path)}")
                time.sleep(0.02)
            result["ready_s"] = time.monotonic() - started
            time.sleep(IDLE_S)
            result["idle_rss_mb"] = rss_mb(proc.pid).get("VmRSS", float("nan"))
            watch = RssWatch(proc.pid)

            def run_load(count: int, each: int, cap: float) -> Load:
                load = Load(count, count * each)
                stop_at = time.monotonic() + cap
                load_lock = threading.Lock()

                def seller(k: int) -> None:
                    for j in range(each):
                        if time.monotonic() > stop_at:
                            return
                        try:
                            channel, sent_at, ack = post_dm(texts[(k * each + j) % len(texts)])
                        except (OSError, urllib.error.URLError) as exc:
                            with load_lock:
                                load.sent += 1
                                load.late += 1
                                load.errors.append(repr(exc))
                            continue
                        replied = api.waiters[channel].wait(REPLY_TIMEOUT_S)
                        with load_lock:
                            load.sent += 1
                            load.chats.append(channel)
                            load.acks.append(ack)
                            if not replied:
                                load.late += 1
                                continue
                            replied_at = api.replied_at[channel]
                            load.latencies.append(replied_at - sent_at)
                            load.ended = max(load.ended, replied_at)

                load.started = time.monotonic()
                with ThreadPoolExecutor(count) as pool:
                    list(pool.map(seller, range(count)))
                time.sleep(SETTLE_S)
                return load

            single = run_load(1, SINGLE_SELLER_MESSAGES, cap_s)
            result["single"] = single.summary(api.replies)
            load = run_load(sellers, per_seller, cap_s)
            result["load"] = load.summary(api.replies)
            result["load_rss_mb"] = max(watch.stop(), rss_mb(proc.pid).get("VmRSS", 0.0))
            result["peak_rss_mb"] = rss_mb(proc.pid).get("VmHWM", float("nan"))
            result["log_problems_under_load"] = _log_problems(log_path)
        finally:
            result["exit_code"] = _stop_process(proc)
            api.stop()
            result["log_problems_at_stop"] = _log_problems(log_path)[
                len(result.get("log_problems_under_load", [])):]
            if os.environ.get("BENCH_KEEP_LOG"):
                print(log_path.read_text(errors="replace"), file=sys.stderr)
    return result


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


# --- whether the adapters can be measured --------------------------------------------------------

ADAPTERS: dict[str, tuple[tuple[str, ...], str, Callable[..., dict], str, str]] = {
    "Telegram": (("adapters/telegram.py", "tests/fakes/telegram_api.py"), "tests/test_telegram.py",
                 telegram, UNLIMITED_TELEGRAM, "AIORateLimiter's overall 30 msg/s limit lifted"),
    "Slack": (("adapters/slack.py", "adapters/slack_http.py", "tests/fakes/slack_api.py"),
              "tests/test_slack.py", slack, WIDE_BACKLOG_SLACK,
              f"listen backlog {SLACK_BACKLOG} instead of wsgiref's 5"),
}


def adapter_tests(test_file: str) -> tuple[bool, str]:
    """Run the adapter's own tests first: a broken adapter is reported, not benchmarked."""
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", test_file, "-q", "-x", "-p",
                              "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return False, f"{test_file} did not finish within 300 s"
    last = (out.stdout.strip().splitlines() or ["no output"])[-1]
    return out.returncode == 0, last


def run(log: Callable[[str], None] = print, check_tests: bool = False,
        diagnostics: bool = True) -> dict[str, dict]:
    """Every adapter that exists (and, with check_tests, passes its tests) is measured; the others
    say why not. With `diagnostics`, each is measured a second time with its limit lifted."""
    results: dict[str, dict] = {}
    for name, (files, test_file, measure, diagnostic, lifted) in ADAPTERS.items():
        missing = [f for f in (*files, test_file) if not (ROOT / f).exists()]
        if missing:
            results[name] = {"adapter": name, "skipped": f"not measured yet: {', '.join(missing)} missing"}
            log(f"  {name}: {results[name]['skipped']}")
            continue
        if check_tests:
            ok, last = adapter_tests(test_file)
            if not ok:
                results[name] = {"adapter": name,
                                 "skipped": f"not measured yet: `{test_file}` fails ({last})"}
                log(f"  {name}: {results[name]['skipped']}")
                continue
            results[name] = {"tests": last}
        try:
            results[name] = {**results.get(name, {}), **measure()}
        except Exception as exc:  # noqa: BLE001 - a failed measurement is reported, not fatal
            results[name] = {"adapter": name, "skipped": f"not measured: {exc}"}
        entry = results[name]
        if diagnostics and "load" in entry:
            try:
                entry["diagnostic"] = {"lifted": lifted, **measure(diagnostic=diagnostic)}
            except Exception as exc:  # noqa: BLE001
                entry["diagnostic"] = {"lifted": lifted, "skipped": f"not measured: {exc}"}
        if "load" in entry:
            load = entry["load"]
            log(f"  {name}: {load['per_second']:.0f} replies/s, p50 {load['p50_ms']:.0f} ms, "
                f"p99 {load['p99_ms']:.0f} ms, lost {load['lost']}, duplicated {load['duplicated']}")
        else:
            log(f"  {name}: {entry.get('skipped')}")
    return results


if __name__ == "__main__":
    print(json.dumps(run(log=lambda line: print(line, file=sys.stderr)), indent=1, default=str))
