"""`make bench`: measure charterbot and rewrite BENCHMARKS.md (GitHub issue #6).

    .venv/bin/python scripts/benchmark.py                  # everything, ~4-5 minutes on 2 cores
    .venv/bin/python scripts/benchmark.py --sizes 0,1000   # skip the 10,000-entry knowledge
    .venv/bin/python scripts/benchmark.py --output /tmp/B.md --json /tmp/bench.json

Parts (each its own module, runnable alone):
  bench_accuracy.py  charterbot vs rapidfuzz WRatio vs BM25 on the labelled questions, both splits
  bench_engine.py    index build, Matcher.match and Charterbot.handle latency, per knowledge size
  bench_process.py   cold start and peak RSS of `charterbot ask`, platform imports
  bench_e2e.py       Telegram and Slack adapters as processes against their fake servers
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import bench_accuracy
import bench_e2e
import bench_process

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SIZES = (0, 1000, 10000)  # 0: the shipped knowledge

# Targets of issue #6.
ENGINE_RATE = 2000          # answers/s on the shipped knowledge
ENGINE_P99_MS = 5.0         # on the shipped knowledge
ENGINE_P99_10K_MS = 25.0    # at 10,000 entries
COLD_START_S = 1.0
ASK_RSS_MB = 80.0
ADAPTER_IDLE_MB = 120.0
ADAPTER_RATE = 100.0        # messages/s end to end
HELD_OUT_TOP1 = 0.95
HELD_OUT_FALLBACK_PRECISION = 0.95


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- the machine --------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal:")), 0)
    versions = {}
    for package in ("rapidfuzz", "bm25s", "numpy", "PyYAML", "sqlite-utils", "python-telegram-bot",
                    "slack_bolt", "slack_sdk"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gb": mem_kb / 1024 / 1024, "python": f"{platform.python_implementation()} "
        f"{platform.python_version()}", "os": platform.platform(), "versions": versions,
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted": bool(_git("status", "--porcelain")),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _git(*args: str) -> str:
    """Read-only git queries (which commit the figures come from)."""
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def load_average() -> float:
    return os.getloadavg()[0]


# --- running the parts --------------------------------------------------------------------------

def engine(entries: int) -> dict[str, Any]:
    """bench_engine.py in its own process: cold caches, its own peak RSS."""
    out = subprocess.run([sys.executable, str(HERE / "bench_engine.py"), "--entries", str(entries)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"bench_engine.py --entries {entries} failed:\n{out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_all(sizes: tuple[int, ...], adapter_tests: bool) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "load_before": load_average(),
                               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    log("accuracy (charterbot, rapidfuzz WRatio, BM25) on both splits...")
    results["accuracy"] = bench_accuracy.run(log=lambda line: log(line))
    results["engine"], results["engine_failures"] = [], []
    for size in sizes:
        log(f"engine on {'the shipped knowledge' if size == 0 else f'{size:,} synthetic entries'}...")
        try:
            found = engine(size)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            log(f"  failed: {exc}")
            results["engine_failures"].append(f"{size or 'shipped'}: {str(exc).strip().splitlines()[-1]}")
            continue
        results["engine"].append(found)
        log(f"  {found['entries']} entries: index build {found['index_build_s']:.1f} s, handle p50 "
            f"{found['handle']['p50_ms']:.2f} ms p99 {found['handle']['p99_ms']:.2f} ms")
    log("cold start and memory of `charterbot ask`...")
    results["cli"] = bench_process.run()
    log(f"  first answer after {results['cli']['first_answer_s']:.2f} s, {results['cli']['rss_mb']:.0f} MB")
    log("end to end through the adapters...")
    results["e2e"] = bench_e2e.run(log=lambda line: log(line), check_tests=adapter_tests)
    results["load_after"] = load_average()
    results["duration_s"] = time.monotonic() - started
    return results


# --- the report ---------------------------------------------------------------------------------

def pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.1f} %"


def ms(x: float) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:.2f} ms" if x < 10 else f"{x:.0f} ms" if x >= 100 else f"{x:.1f} ms"


def num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else "**met**" if met else "**missed**"


def growth_exponent(engine: list[dict], key: str) -> float | None:
    """Slope of log(latency) over log(entries) between the smallest and largest knowledge."""
    if len(engine) < 2:
        return None
    small, big = engine[0], engine[-1]
    if big["entries"] <= small["entries"]:
        return None
    return math.log(big["handle"][key] / small["handle"][key]) / math.log(big["entries"] / small["entries"])


def category_verdicts(acc: dict) -> dict[str, dict[str, str]]:
    """split -> category -> ahead / tied / behind, charterbot against the better baseline."""
    out: dict[str, dict[str, str]] = {}
    baselines = [s for s in acc["systems"] if s != "charterbot"]
    for split, data in acc["splits"].items():
        per = data["per_category"]
        out[split] = {}
        for category in data["categories"]:
            right, total = per["charterbot"][category]
            best = max(per[b][category][0] for b in baselines)
            out[split][category] = ("ahead" if right > best else
                                    "tied (all right)" if right == best == total else
                                    "tied" if right == best else "behind")
    return out


def targets(r: dict) -> list[tuple[str, str, str, bool | None, str]]:
    """(area, target, measured, met, what limits it) for every target of the issue."""
    rows: list[tuple[str, str, str, bool | None, str]] = []
    engine_rows = r["engine"]
    shipped = engine_rows[0] if engine_rows and engine_rows[0]["entries"] < 1000 else None
    load = f"load average {r['load_before']:.1f} at start, {r['load_after']:.1f} at end"
    if shipped:
        h, m, noise = shipped["handle"], shipped["match"], shipped["noise"]
        rows.append(("Engine", f"≥ {ENGINE_RATE:,} answers/s, shipped knowledge",
                     f"{num(h['per_second'])} answers/s ({num(h['cpu_per_second'])}/s of CPU time)",
                     h["per_second"] >= ENGINE_RATE,
                     f"one thread; `handle` = `Matcher.match` ({num(m['per_second'])}/s alone) + a SQLite "
                     f"log row, pseudonym and language per question; machine shared ({load})"))
        limit = (f"the tail is the machine, not the engine: CPU-time p99 is {ms(h['cpu_p99_ms'])}; a fixed "
                 f"{ms(noise['p50_ms'])} loop timed alongside had p99 {ms(noise['p99_ms'])}, max "
                 f"{ms(noise['max_ms'])} ({load})" if h["cpu_p99_ms"] < ENGINE_P99_MS else
                 "matching cost (CPU-time p99 is over the target too)")
        rows.append(("Engine", f"p99 < {ENGINE_P99_MS:g} ms, shipped knowledge",
                     f"{ms(h['p99_ms'])} (CPU time {ms(h['cpu_p99_ms'])})", h["p99_ms"] < ENGINE_P99_MS,
                     limit))
    big = next((e for e in engine_rows if e["entries"] >= 10000), None)
    if big:
        h = big["handle"]
        cands = f"{num(big['candidates_mean'])} entries per question on average"
        small = f" ({num(shipped['candidates_mean'])} on the shipped knowledge)" if shipped else ""
        rows.append(("Engine", f"p99 < {ENGINE_P99_10K_MS:g} ms at 10,000 entries",
                     f"{ms(h['p99_ms'])} (p50 {ms(h['p50_ms'])}, CPU-time p99 {ms(h['cpu_p99_ms'])}; "
                     f"first sight, typo cache empty: p99 {ms(big['match_first_sight']['p99_ms'])})",
                     h["p99_ms"] < ENGINE_P99_10K_MS,
                     f"every entry sharing a stem with the question gets a score: {cands}{small}; "
                     "common stems (charte, platform, signer...) are in a share of all entries, so the "
                     "work grows with the knowledge"))
    slope = growth_exponent(engine_rows, "p50_ms")
    if slope is not None:
        rows.append(("Engine", "sub-linear growth with entries",
                     f"p50 grows as entries^{slope:.2f} from {engine_rows[0]['entries']:,} to "
                     f"{engine_rows[-1]['entries']:,} entries", slope < 1.0,
                     "posting lists of common stems (charte, platform, signer...) hold a share of all "
                     "entries and phrasings, and the question's score is summed over them"))
    cli = r["cli"]
    rows.append(("Cold start", f"`charterbot ask` first answer < {COLD_START_S:g} s",
                 f"{cli['first_answer_s']:.2f} s (median of {cli['runs']})",
                 cli["first_answer_s"] < COLD_START_S,
                 "imports (" + ", ".join(f"{n} {v:.0f} ms" for n, v in cli["slowest_imports_ms"][:3])
                 + ") and building the in-memory matcher"))
    rows.append(("Cold start", "the CLI imports no platform library",
                 "none imported" if cli["platform_modules"] == [] else str(cli["platform_modules"]),
                 cli["platform_modules"] == [], "see the list"))
    rows.append(("Memory", f"`charterbot ask` < {ASK_RSS_MB:g} MB RSS", f"{cli['rss_mb']:.0f} MB peak",
                 cli["rss_mb"] < ASK_RSS_MB, ""))
    for name, e2e in r["e2e"].items():
        if "load" not in e2e:
            rows.append(("Adapters", f"{name}: idle < {ADAPTER_IDLE_MB:g} MB; ≥ {ADAPTER_RATE:g} msg/s, "
                         "nothing lost or duplicated", e2e.get("skipped", "not measured"), None, ""))
            continue
        load_ = e2e["load"]
        rows.append(("Memory", f"{name} adapter idle < {ADAPTER_IDLE_MB:g} MB",
                     f"{e2e['idle_rss_mb']:.0f} MB", e2e["idle_rss_mb"] < ADAPTER_IDLE_MB, ""))
        lifted = e2e.get("diagnostic", {}).get("load")
        if name == "Telegram" and lifted:
            # Telegram itself accepts ~30 msg/s from a bot and the limiter keeps the bot under it;
            # the target asks whether the bot could go faster, i.e. is never the bottleneck.
            rows.append(("End to end", f"{name}: ≥ {ADAPTER_RATE:g} messages/s (the bot, not Telegram's "
                         "30 msg/s cap, is measured)",
                         f"{lifted['per_second']:.0f} messages/s with the 30 msg/s cap lifted; "
                         f"{load_['per_second']:.0f} messages/s under it",
                         lifted["per_second"] >= ADAPTER_RATE,
                         "" if lifted["per_second"] >= ADAPTER_RATE else _e2e_limit(name, e2e, "rate")))
        else:
            rows.append(("End to end", f"{name}: ≥ {ADAPTER_RATE:g} messages/s",
                         f"{load_['per_second']:.0f} messages/s", load_["per_second"] >= ADAPTER_RATE,
                         _e2e_limit(name, e2e, "rate")))
        clean = load_["lost"] == 0 and load_["duplicated"] == 0
        rows.append(("End to end", f"{name}: nothing lost or duplicated",
                     f"{load_['lost']} lost, {load_['duplicated']} duplicated of {load_['sent']}", clean,
                     _e2e_limit(name, e2e, "lost")))
    acc = r["accuracy"]
    verdicts = category_verdicts(acc)
    for split in acc["splits"]:
        by_verdict: dict[str, list[str]] = {}
        for category, v in verdicts[split].items():
            by_verdict.setdefault(v, []).append(category)
        behind = by_verdict.get("behind", []) + by_verdict.get("tied", [])
        said = "; ".join(f"{v} on {', '.join(cats)}" for v, cats in (
            ("ahead", by_verdict.get("ahead", [])), ("behind", by_verdict.get("behind", [])),
            ("tied", by_verdict.get("tied", [])),
            ("tied at 100 %", by_verdict.get("tied (all right)", []))) if cats)
        rows.append(("Accuracy", f"ahead of both baselines on every category ({split})", said,
                     not behind, _category_limit(acc, split, behind)))
    held = acc["splits"]["held-out"]["metrics"]["charterbot"]
    tuned = acc["splits"]["tuning"]["metrics"]["charterbot"]
    missed = held["n_in"] - round(held["in_scope"] * held["n_in"])
    fell = held.get("in_scope_fallbacks")
    split_of_misses = (f"of the {missed} in-scope questions missed, {fell} fell back (nothing scored high "
                       f"enough) and {missed - fell} got another entry; " if fell is not None else "")
    rows.append(("Accuracy", f"held-out top-1 in scope ≥ {HELD_OUT_TOP1:.0%}", pct(held["in_scope"]),
                 held["in_scope"] >= HELD_OUT_TOP1,
                 f"{split_of_misses}the thresholds and phrasings were tuned on the tuning split "
                 f"({pct(tuned['in_scope'])} there): held-out sellers use words no phrasing has yet"))
    rows.append(("Accuracy", f"held-out fallback precision ≥ {HELD_OUT_FALLBACK_PRECISION:.0%}",
                 f"{pct(held['fallback_precision'])} ({held['n_fallbacks']} fallbacks)",
                 held["fallback_precision"] >= HELD_OUT_FALLBACK_PRECISION,
                 (f"{fell} of the {held['n_fallbacks']} fallbacks were in-scope questions the matcher did "
                  "not reach (the same misses as above); every out-of-scope question did fall back"
                  if fell is not None and held["fallback_recall"] == 1.0 else
                  f"{fell} of the {held['n_fallbacks']} fallbacks were in-scope questions the matcher did "
                  "not reach" if fell is not None else "in-scope questions that fell back")))
    return rows


def _e2e_limit(name: str, e2e: dict, what: str) -> str:
    load_, diag = e2e["load"], e2e.get("diagnostic", {})
    lifted = diag.get("load")
    if what == "rate":
        if load_["per_second"] >= ADAPTER_RATE:
            return ""
        text = "adapter rate limiter" if name == "Telegram" else "the adapter's HTTP server"
        if lifted:
            text = (f"{diag['lifted']}: {lifted['per_second']:.0f} messages/s with it lifted "
                    f"(p99 {ms(lifted['p99_ms'])}); see the diagnostic row")
            if name == "Telegram":
                text += (". Telegram itself accepts about 30 messages/s from one bot, so the limiter "
                         "is what keeps the real bot out of 429s")
        return text
    if load_["lost"] == 0 and load_["duplicated"] == 0:
        return ""
    errors = ", ".join(sorted(set(load_.get("errors", []))))
    text = f"deliveries refused by the adapter: {errors}" if errors else "replies not seen"
    if lifted and lifted["lost"] == 0:
        text += f"; none lost with the {diag['lifted']}"
    return text


def _category_limit(acc: dict, split: str, behind: list[str]) -> str:
    """Which baseline beats charterbot where, in numbers."""
    if not behind:
        return ""
    data = acc["splits"][split]["per_category"]
    notes = []
    for category in behind:
        right, total = data["charterbot"][category]
        best = max((s for s in acc["systems"] if s != "charterbot"), key=lambda s: data[s][category][0])
        notes.append(f"{category}: {best} {data[best][category][0]}/{total} vs charterbot {right}/{total}")
    return "; ".join(notes)


def render(r: dict) -> str:
    m, acc = r["machine"], r["accuracy"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`.venv/bin/python scripts/benchmark.py`, code in `scripts/bench_*.py`); "
        "do not edit by hand. Rerun it to refresh every figure.",
        "",
        f"- Date: {r['date']}, run took {r['duration_s'] / 60:.1f} min",
        f"- Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {m['ram_gb']:.1f} GB RAM, "
        f"{m['os']}",
        f"- Python: {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- Code: commit `{m['commit'] or 'unknown'}`"
        + (" plus uncommitted changes" if m["uncommitted"] else ""),
        f"- Load average (1 min): {r['load_before']:.2f} at start, {r['load_after']:.2f} at end. The 2 "
        "cores may be shared with other work; wall-clock tails include that, CPU-time columns do not.",
        "- Reproduce: `make bench`",
        "",
        "## Targets",
        "",
    ]
    rows = targets(r)
    lines += table(["area", "target", "measured", "verdict", "what limits it"],
                   [[a, t, f, verdict(ok), why if ok is False else ""] for a, t, f, ok, why in rows])
    lines += ["", *_accuracy_section(acc), "",
              *_engine_section(r["engine"], r.get("engine_failures", [])), "",
              *_cli_section(r["cli"]), "", *_e2e_section(r["e2e"]), ""]
    return "\n".join(lines)


def _accuracy_section(acc: dict) -> list[str]:
    systems = acc["systems"]
    out = [
        "## Accuracy",
        "",
        "Labelled seller questions of `tests/data/` (French and English, typos, SMS spellings, "
        f"out-of-scope), all three systems over the same knowledge ({acc['entries']} entries, "
        f"{acc['phrasings']} phrasings):",
        "",
        "- **charterbot**: `Charterbot.handle` as shipped (thresholds tuned on the tuning split only).",
        "- **rapidfuzz WRatio**: `process.extractOne(question, every_phrasing, scorer=fuzz.WRatio, "
        "processor=utils.default_process)`; answers with the best phrasing's entry when its score reaches "
        f"the cutoff ({acc['cutoffs'].get('rapidfuzz WRatio', float('nan')):.1f}). rapidfuzz 3 leaves "
        "`processor=None` by default; `default_process` (lower case, no punctuation) is the processor "
        "rapidfuzz ships and keeps the baseline from losing on case alone.",
        "- **BM25 (bm25s)**: BM25 Okapi (bm25s defaults, k1 1.5, b 0.75) with every phrasing a document, "
        "lower-cased, French and English stop words removed; best phrasing's entry when its score reaches "
        f"the cutoff ({acc['cutoffs'].get('BM25 (bm25s)', float('nan')):.2f}).",
        "- Each baseline's cutoff maximises (in-scope top-1 + fallback recall) on the tuning split and is "
        "applied unchanged to the held-out split. The baselines have no language logic: their reply "
        "language is the matched phrasing's (French for a fallback); charterbot's is `reply.lang`.",
        "- In scope = answer and small-talk questions: right when the reply's entry is the labelled one. "
        "Out of scope: right when the reply is a fallback. Fallback precision = share of all fallbacks that "
        "were out-of-scope questions; recall = share of out-of-scope questions that fell back. Wrong "
        "answers = questions answered with an entry that is not the labelled one (out-of-scope included): "
        "the failure that misleads a seller, where a fallback only disappoints.",
        "",
    ]
    for split, data in acc["splits"].items():
        langs = data["langs"]
        out += [f"### {split} split (`{data['file']}`: {data['n']} questions, {langs['fr']} French, "
                f"{langs['en']} English)", ""]
        out += table(["system", "top-1 in scope", "fallback precision", "fallback recall", "reply language",
                      "wrong answers"],
                     [[s, pct(mt["in_scope"]) + f" of {mt['n_in']}",
                       pct(mt["fallback_precision"]) + f" ({mt['n_fallbacks']} fallbacks)",
                       pct(mt["fallback_recall"]) + f" of {mt['n_out']}", pct(mt["lang"]),
                       str(mt.get("wrong_answers", "n/a"))]
                      for s, mt in data["metrics"].items()])
        out += ["", "Per category (right / questions):", ""]
        verdicts = category_verdicts(acc)[split]
        rows = []
        for category in data["categories"]:
            cells = []
            for s in systems:
                right, total = data["per_category"][s][category]
                cells.append(f"{right}/{total} ({100 * right / total:.0f} %)")
            rows.append([category, *cells, verdicts[category]])
        out += table(["category", *systems, "charterbot vs best baseline"], rows)
        out.append("")
    return out[:-1]


def _engine_section(engine: list[dict], failures: list[str]) -> list[str]:
    out = [
        "## Engine in process",
        "",
        "One thread, one call at a time. `Charterbot.handle` is timed with `channel=\"cli\"` and a new user "
        "per question (so the per-seller rate limit never applies); it includes the SQLite log row of each "
        "question. `Matcher.match` is the bare matcher. Questions: the 329 labelled ones, shuffled and "
        "cycled. *First sight* = each question once with the typo-correction cache emptied; the other "
        "columns are steady state after warm-up (at most 5,000 samples, fewer when a size is slow; the "
        "sample count is given). Latency is wall clock (`perf_counter_ns`); CPU = the thread's CPU time "
        "(`thread_time_ns`), which leaves out time the OS gave to other processes.",
        "",
        "Synthetic knowledge: the real entries plus clones of them (new id, every phrasing perturbed: one "
        "invented word per clone, a synonym swapped, two words swapped), sources/platforms/escalation/"
        "synonyms copied unchanged. Index build = validate the YAML and write the SQLite index; start = "
        "`Charterbot(...)` on an existing index (read it, build the in-memory matcher).",
        "",
    ]
    out += table(
        ["entries", "phrasings", "vocabulary", "knowledge", "index build", "start (matcher)", "peak RSS"],
        [[num(e["entries"]), num(e["phrasings"]), num(e["vocabulary"]),
          f"{e['knowledge_bytes'] / 1e6:.1f} MB", f"{e['index_build_s']:.2f} s",
          f"{e['core_start_s']:.2f} s ({e['matcher_build_s']:.2f} s)", f"{e['peak_rss_mb']:.0f} MB"]
         for e in engine])
    out += ["", "Latency per question:", ""]
    rows = []
    for e in engine:
        first, match, handle = e["match_first_sight"], e["match"], e["handle"]
        match_label = "= first sight" if match.get("first_sight_only") else f"{num(match['samples'])}"
        rows.append([num(e["entries"]), num(e["candidates_mean"]),
                     f"{ms(first['p50_ms'])} / {ms(first['p99_ms'])}",
                     f"{num(match['per_second'])}/s, {ms(match['p50_ms'])} / {ms(match['p99_ms'])} "
                     f"({match_label})",
                     f"{num(handle['per_second'])}/s, {ms(handle['p50_ms'])} / {ms(handle['p99_ms'])} "
                     f"({num(handle['samples'])})",
                     f"{num(handle['cpu_per_second'])}/s, {ms(handle['cpu_p50_ms'])} / "
                     f"{ms(handle['cpu_p99_ms'])}",
                     f"{ms(e['noise']['p99_ms'])}"])
    out += table(["entries", "candidates / question", "match first sight p50 / p99",
                  "match steady: rate, p50 / p99 (samples)", "handle: answers/s, p50 / p99 (samples)",
                  "handle CPU time: rate, p50 / p99", "noise p99"], rows)
    slope = growth_exponent(engine, "p50_ms")
    if failures:
        out += ["", "Not measured: " + "; ".join(failures)]
    out += ["", "*candidates / question*: entries sharing a stem with the question (those the matcher "
            "has to score). *noise p99*: a fixed ~0.04 ms pure-Python loop timed the same way in the "
            "same process right after; anything above its p50 is the machine, not charterbot."]
    if slope is not None:
        out += ["", f"Growth from {engine[0]['entries']:,} to {engine[-1]['entries']:,} entries: handle p50 "
                f"scales as entries^{slope:.2f} and p99 as entries^{growth_exponent(engine, 'p99_ms'):.2f} "
                "(1.00 = linear, below 1 = sub-linear)."
                + (f" Between the last two sizes p50 scales as entries^"
                   f"{growth_exponent(engine[-2:], 'p50_ms'):.2f}." if len(engine) > 2 else "")]
    return out


def _cli_section(cli: dict) -> list[str]:
    out = [
        "## Cold start and memory of `charterbot ask`",
        "",
        f"`{cli['command']}` as a new process, {cli['runs']} times after one run that compiled the index "
        f"(medians; peak RSS from {cli.get('rss_from', 'wait4')}).",
        "",
    ]
    out += table(["", "value"], [
        ["process start → first byte of the answer", f"{cli['first_answer_s']:.2f} s"],
        ["process start → exit", f"{cli['exit_s']:.2f} s (slowest {cli['max_exit_s']:.2f} s)"],
        ["first run (empty data dir: compiles the index)",
         f"{cli['first_run_s']:.2f} s, {cli['first_run_rss_mb']:.0f} MB"],
        ["peak RSS", f"{cli['rss_mb']:.0f} MB"],
        ["bare interpreter (`python -c 'print(1)'`)",
         f"{cli['python_s']:.2f} s, {cli['python_rss_mb']:.0f} MB"],
        ["platform libraries imported", ", ".join(cli["platform_modules"] or []) or "none"],
        ["import time (`-X importtime`, self time by package)",
         f"{cli['imports_ms']:.0f} ms: "
         + ", ".join(f"{n} {v:.0f} ms" for n, v in cli["slowest_imports_ms"])],
        ["failed runs", str(cli["failures"])],
    ])
    ph = cli.get("phases") or {}
    if ph:
        out += ["", f"Inside such a process (median of 3): importing the core takes "
                f"{ph['imports_s']:.2f} s, `Charterbot(...)` on the existing index {ph['core_s']:.2f} s "
                "(nearly all of it building the "
                f"in-memory matcher) and the answer {ph['answer_s'] * 1000:.1f} ms; the rest is the "
                "interpreter and the CLI."]
    if any(name == "numpy" for name, _ in cli["slowest_imports_ms"]):
        out += ["", "numpy is imported by sqlite-utils whenever it is installed (it is here because the "
                "`bench` extra's bm25s needs it); an install without that extra starts without it."]
    return out


def _code(text: str, limit: int = 300) -> str:
    """A log line fit for inline code in Markdown."""
    text = text.replace("`", "'").replace("|", "/")
    return text if len(text) <= limit else text[:limit] + "…"


def _e2e_section(e2e: dict[str, dict]) -> list[str]:
    out = [
        "## End to end through the adapters",
        "",
        f"Each adapter runs as its own process, as deployed, against the fake platform server of its tests "
        f"on 127.0.0.1 (`tests/fakes/`). Simulated sellers send a question and wait for its reply before "
        f"the next (at most {bench_e2e.MESSAGES_PER_SELLER} each, no new question after "
        f"{bench_e2e.CAP_S:.0f} s); each question comes from a new seller id in its own private chat, so the "
        "per-seller rate limit never applies. Latency = update handed to the fake platform → the bot's reply "
        f"received by it. Lost = no reply by the end (or a delivery the adapter refused); duplicated = the "
        f"same reply twice in a chat, watched for {bench_e2e.SETTLE_S:g} s after the last reply. RSS from "
        "`/proc/<pid>/status` (idle: ready and unused for 2 s; under load: highest sample).",
        "",
    ]
    rows, notes = [], []
    for name, r in e2e.items():
        if "load" not in r:
            rows.append([name, r.get("skipped", "not measured"), "", "", "", "", "", "", ""])
            continue
        variants = [(name, r)]
        if r.get("diagnostic", {}).get("load"):
            variants.append((f"{name}, diagnostic: {r['diagnostic']['lifted']}", r["diagnostic"]))
        for label, v in variants:
            single, load = v["single"], v["load"]
            rows.append([label, v["mode"], f"{v['ready_s']:.1f} s",
                         f"{v['idle_rss_mb']:.0f} MB / {v['load_rss_mb']:.0f} MB",
                         f"{ms(single['p50_ms'])} / {ms(single['p99_ms'])}",
                         f"{load['sellers']} × {load['sent'] // max(load['sellers'], 1)}",
                         f"**{load['per_second']:.0f}**/s", f"{ms(load['p50_ms'])} / {ms(load['p99_ms'])}",
                         f"{load['lost']} / {load['duplicated']}"])
            problems = v.get("log_problems_under_load", [])
            if problems:
                notes.append(f"- {label}: {len(problems)} error/warning log lines under load, first: "
                             f"`{_code(problems[0])}`")
            at_stop = v.get("log_problems_at_stop", [])
            if at_stop and label == name:
                notes.append(f"- {label}: at shutdown (SIGTERM) the adapter logged `{_code(at_stop[0])}`")
            if load.get("errors") and label == name:
                notes.append(f"- {label}: deliveries the adapter refused: "
                             f"{', '.join(sorted(set(load['errors'])))}")
        diag = r.get("diagnostic", {}).get("load")
        load = r["load"]
        if diag and load["p99_ms"] > 500 and diag["p99_ms"] < load["p99_ms"] / 3:
            notes.append(f"- {name}: the p99 of {ms(load['p99_ms'])} under load drops to "
                         f"{ms(diag['p99_ms'])} with the {r['diagnostic']['lifted']}: that is what holds "
                         "the slowest replies."
                         + (" A connection beyond the 5 the kernel queues for wsgiref is dropped; the "
                            "sender retries 1 s later, or gets 'connection reset' and the delivery fails."
                            if name == "Slack" else ""))
    out += table(["adapter", "mode", "ready after", "RSS idle / under load", "1 seller p50 / p99",
                  "sellers × questions", "replies/s", "p50 / p99", "lost / duplicated"], rows)
    out += ["", "Diagnostic rows run the same adapter with one limit lifted inside its process (the "
            "repository's code is unchanged) to show how much of a figure that limit explains. The Slack "
            "adapter is measured in HTTP mode; Socket Mode is not measured."]
    if notes:
        out += ["", *notes]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure charterbot and rewrite BENCHMARKS.md.")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="knowledge sizes for the engine (0 = shipped), comma-separated")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--adapter-tests", action="store_true",
                        help="run each adapter's pytest file first and skip adapters that fail (+1 min)")
    parser.add_argument("--from-json", type=Path, help="re-render figures saved with --json, no measuring")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip())
    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        results = run_all(sizes, args.adapter_tests)
    if args.json and not args.from_json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    args.output.write_text(render(results), encoding="utf-8")
    log(f"wrote {args.output}" + ("" if args.from_json else f" in {results['duration_s'] / 60:.1f} min"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
