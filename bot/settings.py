"""Configuration, read once from the environment into a frozen value."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR = PACKAGE_ROOT / "knowledge"
DEFAULT_RETENTION_DAYS = 180
MAX_RETENTION_DAYS = 36_500  # a century: longer periods overflow date arithmetic


class ConfigError(Exception):
    """A required setting is missing or wrong; the message names the variable(s)."""


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    data_dir: Path = Path("data")
    secret: str | None = None
    admins: frozenset[str] = frozenset()
    retention_days: int = DEFAULT_RETENTION_DAYS
    database_url: str | None = None  # None: state.sqlite in data_dir

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from CHARTERBOT_* variables, with defaults for everything."""
        env = dict(os.environ if env is None else env)
        retention = env.get("CHARTERBOT_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS)).strip()
        if (not re.fullmatch(r"[0-9]{1,6}", retention)
                or not 1 <= int(retention) <= MAX_RETENTION_DAYS):
            raise ConfigError(f"CHARTERBOT_RETENTION_DAYS must be a whole number of days from 1 "
                              f"to {MAX_RETENTION_DAYS}, not '{retention[:20]}'")
        database_url = env.get("DATABASE_URL", "").strip() or None
        secret = env.get("CHARTERBOT_SECRET") or None
        if database_url and not secret:
            # a key generated into a local folder would be lost with the disk, and with it every
            # pseudonym: /oubli would then miss the seller's older rows
            raise ConfigError("CHARTERBOT_SECRET must be set when DATABASE_URL is: the key of the "
                              "sellers' pseudonyms has to outlive the machine (make one with "
                              "python -c \"import secrets; print(secrets.token_hex(32))\")")
        admins = frozenset(a.strip() for a in env.get("CHARTERBOT_ADMINS", "").split(",")
                           if a.strip())
        return cls(
            knowledge_dir=Path(env.get("CHARTERBOT_KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR),
            data_dir=Path(env.get("CHARTERBOT_DATA_DIR") or "data"),
            secret=secret,
            admins=admins,
            retention_days=int(retention),
            database_url=database_url,
        )


def require(env: dict[str, str], *names: str) -> dict[str, str]:
    """The named variables' values; raises ConfigError naming every missing one at once."""
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(f"missing environment variable{'s' if len(missing) > 1 else ''}: "
                          f"{', '.join(missing)}")
    return {name: env[name] for name in names}
