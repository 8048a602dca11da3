"""The console adapter: one line in, the plain-text reply out, until end of input.

An answer's first message is followed by its numbered choices ("1 Étapes de recours · 2 Sources");
typing one of those numbers next shows the details behind it.
"""

from __future__ import annotations

from typing import TextIO

from bot.model import Message, Reply
from bot.phrases import say
from bot.service import Charterbot

PROMPT = "> "
COMMANDS = {"/start": "start", "/help": "help", "/aide": "help", "/signataires": "signatories",
            "/signatories": "signatories", "/recours": "escalate", "/escalate": "escalate",
            "/langue": "language", "/language": "language", "/oubli": "forget",
            "/forget": "forget", "/stats": "stats", "/unanswered": "unanswered",
            "/reload": "reload"}


def to_message(line: str) -> Message:
    """A typed line as a core message; '/command args' lines become commands."""
    head, _, rest = line.strip().partition(" ")
    command = COMMANDS.get(head.lower())
    if command:
        return Message(text=line, user="console:local", channel="console",
                       command=command, args=rest)  # type: ignore[arg-type]
    return Message(text=line, user="console:local", channel="console")


def choices(reply: Reply) -> str:
    """The numbered details of an answer, on one line; empty when it has none."""
    if not reply.more:
        return ""
    numbered = " · ".join(f"{n} {e.label}" for n, e in enumerate(reply.more, 1))
    return f"{say('choose_more', reply.lang)} {numbered}"


def chosen(line: str, last: Reply | None) -> str | None:
    """The details a typed number asks for, from the last answer; None for anything else."""
    number = line.strip()
    if last is None or not number.isdigit() or not 1 <= int(number) <= len(last.more):
        return None
    return last.more[int(number) - 1].text


def run_console(core: Charterbot, stdin: TextIO, stdout: TextIO) -> int:
    """Chat until end of input; prompts only when a person is typing at a terminal."""
    interactive = stdin.isatty()
    if interactive:
        stdout.write(core.overview("fr").text + "\n\n")
    last: Reply | None = None
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        details = chosen(line, last)
        if details is not None:
            stdout.write(details + "\n\n" + choices(last) + "\n\n" if last else details)
        else:
            last = core.handle(to_message(line.rstrip("\n")))
            options = choices(last)
            stdout.write(last.text + ("\n\n" + options if options else "") + "\n\n")
        stdout.flush()
    core.close()
    return 0
