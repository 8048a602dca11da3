"""The pure engine: text in, decision out; no database, clock or files."""

from bot.engine.decide import Decision
from bot.engine.engine import Engine

__all__ = ["Decision", "Engine"]
