"""The `charterbot` command. Platform libraries are imported only by `charterbot run`."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

from bot.knowledge import KnowledgeError
from bot.settings import ConfigError, Settings

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_CONFIG
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"charterbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KnowledgeError as exc:
        print("charterbot: the knowledge files have errors:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `charterbot ask ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="charterbot",
        description="Answers small sellers about the French e-commerce charter, the EU P2B "
                    "Regulation and how to escalate a problem with a marketplace.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    chat = sub.add_parser("chat", help="talk to the bot in this terminal (reads stdin)")
    chat.set_defaults(func=_chat)

    ask = sub.add_parser("ask", help="answer one question, or one per stdin line with --jsonl")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    mode.add_argument("--jsonl", action="store_true",
                      help="read questions from stdin, print one JSON object per line")
    ask.add_argument("--full", action="store_true",
                     help="print the whole answer (steps, details, sources), not just the first "
                          "message a seller sees")
    ask.set_defaults(func=_ask)

    knowledge = sub.add_parser("knowledge", help="check or compile the knowledge files")
    ksub = knowledge.add_subparsers(title="knowledge commands", metavar="ACTION")
    check = ksub.add_parser("check", help="validate the files; file:line for every problem")
    check.add_argument("--dir", type=Path, help="knowledge folder (default: the bot's)")
    check.add_argument("--max-age", type=int, default=None, metavar="DAYS",
                       help="warn about entries reviewed more than DAYS ago (default: "
                            "$CHARTERBOT_REVIEW_MAX_DAYS, else 365)")
    check.set_defaults(func=_knowledge_check)
    build = ksub.add_parser("build", help="compile the knowledge into its SQLite index")
    build.add_argument("--dir", type=Path, help="knowledge folder (default: the bot's)")
    build.set_defaults(func=_knowledge_build)

    run = sub.add_parser("run", help="connect the bot to a chat platform")
    rsub = run.add_subparsers(title="platforms", metavar="PLATFORM")
    telegram = rsub.add_parser("telegram", help="Telegram (polling, or --webhook)")
    telegram.add_argument("--webhook", action="store_true", help="serve a webhook on $PORT")
    telegram.set_defaults(func=_run_telegram)
    slack = rsub.add_parser("slack", help="Slack (Socket Mode, or --http)")
    slack.add_argument("--http", action="store_true", help="serve the Events API on $PORT")
    slack.set_defaults(func=_run_slack)
    web = rsub.add_parser("web", help="production: Telegram webhook and Slack HTTP in one web "
                                      "process, WEB_CONCURRENCY workers on $PORT")
    web.set_defaults(func=_run_web)
    release = sub.add_parser("release", help="once per deploy: migrate the database and "
                                              "register the Telegram webhook")
    release.set_defaults(func=_release)

    report = sub.add_parser("report", help="what sellers could not get answered, feedback, "
                                                "and case-builder counts")
    rep = report.add_subparsers(title="reports", metavar="REPORT")
    unanswered = rep.add_parser("unanswered", help="unanswered questions, grouped")
    unanswered.add_argument("--since", help="only questions since this date (YYYY-MM-DD)")
    unanswered.add_argument("--json", action="store_true", help="print JSON")
    unanswered.set_defaults(func=_report_unanswered)
    feedback = rep.add_parser("feedback", help="thumbs up / down per entry")
    feedback.add_argument("--json", action="store_true", help="print JSON")
    feedback.set_defaults(func=_report_feedback)
    cases = rep.add_parser("cases", help="case-builder cases by platform and problem (counts)")
    cases.add_argument("--since", help="only cases since this date (YYYY-MM-DD)")
    cases.add_argument("--json", action="store_true", help="print JSON")
    cases.set_defaults(func=_report_cases)
    return parser


def _core() -> object:
    from bot.service import Charterbot

    return Charterbot(Settings.from_env())


def _adapter(name: str) -> ModuleType:
    """An adapter module, loaded by name: the core never depends on a platform statically."""
    return importlib.import_module(f"adapters.{name}")


def _chat(args: argparse.Namespace) -> int:
    return int(_adapter("console").run_console(_core(), sys.stdin, sys.stdout))


def _ask(args: argparse.Namespace) -> int:
    from bot.model import Message
    from bot.service import Charterbot

    core = _core()
    assert isinstance(core, Charterbot)
    if args.jsonl:
        for number, line in enumerate(sys.stdin, 1):
            reply = core.handle(Message(text=line.rstrip("\n"), user=f"cli:jsonl:{number}",
                                        channel="cli"))
            print(json.dumps(reply.to_json(args.full), ensure_ascii=False), flush=True)
        return EXIT_OK
    if args.question is None:
        print("charterbot ask: give a question, or use --jsonl with questions on stdin",
              file=sys.stderr)
        return EXIT_CONFIG
    reply = core.handle(Message(text=args.question, user="cli:ask", channel="cli"))
    if args.json:
        print(json.dumps(reply.to_json(args.full), ensure_ascii=False))
    elif args.full:
        print(reply.full_text)
    else:
        print(reply.text)
        if reply.more:
            print(f"\n[{' · '.join(e.label for e in reply.more)}: charterbot ask --full]")
    return EXIT_OK


def _knowledge_check(args: argparse.Namespace) -> int:
    from bot.lint import lint

    folder = args.dir or Settings.from_env().knowledge_dir
    problems = lint(folder, max_age_days=args.max_age)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.severity == "error"]
    warnings = len(problems) - len(errors)
    if errors:
        print(f"{len(errors)} error(s), {warnings} warning(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"knowledge OK ({warnings} warning(s))", file=sys.stderr)
    return EXIT_OK


def _knowledge_build(args: argparse.Namespace) -> int:
    from bot.library import INDEX_FILE, compile_knowledge

    settings = Settings.from_env()
    folder = args.dir or settings.knowledge_dir
    index = settings.data_dir / INDEX_FILE
    engine, warnings = compile_knowledge(folder, index)
    knowledge = engine.knowledge
    for warning in warnings:
        print(warning)
    print(f"compiled {len(knowledge.entries)} entries, {len(knowledge.platforms)} platforms "
          f"into {index}")
    return EXIT_OK


def _run_telegram(args: argparse.Namespace) -> int:
    return int(_adapter("telegram").main(webhook=args.webhook))


def _run_slack(args: argparse.Namespace) -> int:
    return int(_adapter("slack").main(http=args.http))


def _run_web(args: argparse.Namespace) -> int:
    return int(_adapter("web").main())


def _release(args: argparse.Namespace) -> int:
    return int(_adapter("web").release())


def _report_unanswered(args: argparse.Namespace) -> int:
    from bot.report import print_unanswered

    return print_unanswered(Settings.from_env(), args.since, args.json)


def _report_feedback(args: argparse.Namespace) -> int:
    from bot.report import print_feedback

    return print_feedback(Settings.from_env(), args.json)


def _report_cases(args: argparse.Namespace) -> int:
    from bot.report import print_cases

    return print_cases(Settings.from_env(), args.since, args.json)


if __name__ == "__main__":
    sys.exit(main())
