"""The console adapter: one line in, the plain-text reply out, until end of input.

An answer's first message is followed by its numbered choices ("1 Étapes de recours · 2 Sources ·
3 Préparer ma réclamation"): typing one of those numbers shows the details behind it, or presses
that button. The case builder's papers are printed and written as .docx files into `./dossiers/`
(or the folder given to `run_console`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.model import Choice, Expansion, Message, Reply
from bot.phrases import say
from bot.service import Charterbot

PROMPT = "> "
USER = "console:local"
PAPERS_DIR = Path("dossiers")
COMMANDS = {"/start": "start", "/help": "help", "/aide": "help", "/signataires": "signatories",
            "/signatories": "signatories", "/recours": "escalate", "/escalate": "escalate",
            "/langue": "language", "/language": "language", "/oubli": "forget",
            "/forget": "forget", "/stats": "stats", "/unanswered": "unanswered",
            "/reload": "reload", "/dossier": "case", "/case": "case", "/annuler": "cancel",
            "/cancel": "cancel"}


@dataclass(frozen=True)
class Option:
    """A numbered choice under the last reply: details to show, or a button to press."""

    label: str
    details: Expansion | None = None
    choice: Choice | None = None


def to_message(line: str) -> Message:
    """A typed line as a core message; '/command args' lines become commands."""
    head, _, rest = line.strip().partition(" ")
    command = COMMANDS.get(head.lower())
    if command:
        return Message(text=line, user=USER, channel="console",
                       command=command, args=rest)  # type: ignore[arg-type]
    return Message(text=line, user=USER, channel="console")


def options(reply: Reply | None) -> list[Option]:
    """The numbered choices of a reply: its details first, then its buttons."""
    if reply is None:
        return []
    return ([Option(e.label, details=e) for e in reply.more]
            + [Option(c.label, choice=c) for c in reply.choices])


def choices(reply: Reply) -> str:
    """The numbered choices of a reply, on one line; empty when it has none."""
    found = options(reply)
    if not found:
        return ""
    numbered = " · ".join(f"{n} {o.label}" for n, o in enumerate(found, 1))
    return f"{say('choose_more', reply.lang)} {numbered}"


def chosen(line: str, last: Reply | None) -> Option | None:
    """The option a typed number picks from the last reply; None for anything else."""
    number, found = line.strip(), options(last)
    if not (number.isascii() and number.isdigit()) or not 1 <= int(number) <= len(found):
        return None
    return found[int(number) - 1]


def write_papers(reply: Reply, folder: Path) -> list[Path]:
    """Save the reply's documents as files in `folder`; their paths."""
    if not reply.documents:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for document in reply.documents:
        path = folder / document.filename
        path.write_bytes(document.data or document.text.encode())
        written.append(path)
    return written


def show(reply: Reply, folder: Path) -> str:
    """Everything a reply prints: its text, its papers (and where their files went), its
    numbered choices."""
    parts = [reply.text]
    for document in reply.documents:
        parts.append(f"=== {document.title} ===\n{document.text}")
    parts += [f"→ {path}" for path in write_papers(reply, folder)]
    options_line = choices(reply)
    return "\n\n".join(p for p in (*parts, options_line) if p) + "\n\n"


def run_console(core: Charterbot, stdin: TextIO, stdout: TextIO,
                papers_dir: Path = PAPERS_DIR) -> int:
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
        option = chosen(line, last)
        if option is not None and option.details is not None and last is not None:
            stdout.write(option.details.text + "\n\n" + choices(last) + "\n\n")
        else:
            message = to_message(line.rstrip("\n"))
            if option is not None and option.choice is not None and last is not None:
                message = Message(text="", user=USER, channel="console",
                                  answer=option.choice.value, lang=last.lang)
            last = core.handle(message)
            stdout.write(show(last, papers_dir))
        stdout.flush()
    core.close()
    return 0
