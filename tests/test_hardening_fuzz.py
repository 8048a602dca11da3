"""Issue 12, evidence: any text gets a valid reply, and `knowledge check` survives any file.

- a property test (hypothesis): whatever a person sends, text, undecodable bytes decoded the way
  stdin and web servers decode them, control characters, lone surrogates, the core returns a reply
  that adapters can render and JSON can carry;
- a bounded fuzz run: the bundled knowledge files mutated at random (lines dropped, duplicated,
  re-indented, cut, YAML punctuation, anchors, tabs and bytes inserted) are checked, and every
  outcome is a list of ``file:line`` problems, never an exception.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.lint import lint
from bot.model import LANGS, Message
from bot.service import Charterbot
from bot.settings import DEFAULT_KNOWLEDGE_DIR

KINDS = ("answer", "clarify", "fallback", "smalltalk", "command", "notice", "case")
FUZZ_SECONDS = 20.0   # the fuzz run stops after this long, whatever the count
FUZZ_MAX_RUNS = 60
PROBLEM_LINE = re.compile(r"^[^\n]+:\d+: ")

texts = st.one_of(
    st.text(),                                                             # any code point
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),  # surrogates
    st.binary().map(lambda raw: raw.decode("utf-8", "replace")),            # web servers
    st.binary().map(lambda raw: raw.decode("utf-8", "surrogateescape")),    # stdin, argv
    st.text(alphabet="amzon sigé?!/@#<>&\n\t\x00\u200b\u202e", max_size=60),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, command=st.sampled_from([None, "language", "start", "help"]))
def test_any_text_gets_a_valid_reply(shared_core: Charterbot, text: str,
                                     command: str | None) -> None:
    message = Message(text=text, user=f"cli:{text[:20]}", channel="cli", command=command,  # type: ignore[arg-type]
                      args=text[:10] if command else "")
    reply = shared_core.handle(message)
    assert reply.kind in KINDS and reply.lang in LANGS
    assert reply.blocks, "every input gets something to read"
    rendered = reply.text
    assert rendered.strip()
    rendered.encode("utf-8")                       # storable, sendable
    json.dumps(reply.to_json(), ensure_ascii=False).encode("utf-8")


# -- knowledge check over mutated files -----------------------------------------------------------
SNIPPETS = (": ", "- ", "&a ", "*a", "[", "]", "{", "'", '"', "\t", "#", "|", ">", "---",
            "!!python/object:os.system", "? ", "%YAML 1.1", "\\", "\ufeff", "<<: *a")


def mutate(text: str, rng: random.Random) -> bytes:
    """One random, plausible-to-hostile edit of a YAML file."""
    lines = text.splitlines(keepends=True) or ["\n"]
    where = rng.randrange(len(lines))
    action = rng.randrange(10)
    if action == 0:
        del lines[where]
    elif action == 1:
        lines.insert(where, lines[where])
    elif action == 2:
        lines[where] = " " * rng.randrange(1, 5) + lines[where]
    elif action == 3:
        lines[where] = lines[where].lstrip()
    elif action == 4:
        cut = rng.randrange(len(lines[where]) + 1)
        lines[where] = lines[where][:cut] + rng.choice(SNIPPETS) + lines[where][cut:]
    elif action == 5:
        lines = lines[:where]
    elif action == 6:
        other = rng.randrange(len(lines))
        lines[where], lines[other] = lines[other], lines[where]
    elif action == 7:
        raw = "".join(lines).encode()
        cut = rng.randrange(len(raw) + 1)
        return raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4))) + raw[cut:]
    elif action == 8:
        lines[where] = rng.choice(SNIPPETS) * rng.randrange(1, 30) + "\n"
    else:  # a top-level item that contains itself
        lines.insert(where, "- &loop [x, *loop]\n")
    return "".join(lines).encode()


@pytest.mark.parametrize("seed", [1, 2])
def test_knowledge_check_survives_mutated_files(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    originals = {path.relative_to(DEFAULT_KNOWLEDGE_DIR): path.read_text()
                 for path in sorted(DEFAULT_KNOWLEDGE_DIR.rglob("*.yaml"))}
    deadline = time.monotonic() + FUZZ_SECONDS / 2
    runs = 0
    while runs < FUZZ_MAX_RUNS / 2 and time.monotonic() < deadline:
        folder = tmp_path / f"run{runs}"
        shutil.copytree(DEFAULT_KNOWLEDGE_DIR, folder)
        for _ in range(rng.randrange(1, 4)):
            name = rng.choice(list(originals))
            path = folder / name
            path.write_bytes(mutate(path.read_text(errors="replace"), rng))
        problems = lint(folder, max_age_days=100_000)   # must not raise
        assert all(PROBLEM_LINE.match(str(p)) for p in problems), problems
        shutil.rmtree(folder)
        runs += 1
    assert runs >= 5, "the fuzz run must check several mutations"
