"""The console adapter: one line in, the plain-text reply out, until end of input."""

from __future__ import annotations

from typing import TextIO

from bot.model import Message
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


def run_console(core: Charterbot, stdin: TextIO, stdout: TextIO) -> int:
    """Chat until end of input; prompts only when a person is typing at a terminal."""
    interactive = stdin.isatty()
    if interactive:
        stdout.write(core.overview("fr").text + "\n\n")
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        stdout.write(core.handle(to_message(line.rstrip("\n"))).text + "\n\n")
        stdout.flush()
    core.close()
    return 0
