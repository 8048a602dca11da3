"""The tables of the state database, as SQLAlchemy Core objects (one MetaData, any engine).

The first four tables are those the SQLite-only version created with sqlite-utils: same names,
columns and index names, so an existing `state.sqlite` is adopted as version 1 unchanged.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("seller", Text, primary_key=True),
    Column("lang", Text),
    Column("updated", Text),
)

questions = Table(
    "questions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seller", Text), Column("at", Text), Column("channel", Text), Column("lang", Text),
    Column("kind", Text), Column("entry", Text), Column("confidence", Float),
    Column("platform", Text), Column("text", Text), Column("candidate", Text),
    Column("candidate_score", Float),
    Index("idx_questions_at", "at"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seller", Text), Column("at", Text), Column("entry", Text), Column("useful", Integer),
    Index("idx_feedback_seller_entry", "seller", "entry"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("key", Text, primary_key=True),
    Column("at", Text),
    Column("event", Text),  # version 2: the delivery that recorded the key (a replay may pass)
)

# Version 2: every incoming update or event, stored before it is acknowledged, until answered.
# The primary key is what decides, across processes, who answers a delivery.
inbox = Table(
    "inbox", metadata,
    Column("key", String(200), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("payload", Text),               # the raw delivery; erased once answered
    Column("status", String(10), nullable=False),   # pending / working / answered / failed
    Column("owner", String(80)),            # the process working on it
    Column("lease_until", Float),           # epoch seconds; after it another process may take over
    Column("attempts", Integer, nullable=False, default=0),
    Column("received_at", Text, nullable=False),
    Column("answered_at", Text),
    Index("idx_inbox_status", "status", "lease_until"),
)

# Version 3: the case builder. One case under way per seller (its answers, erased once the papers
# are sent, cancelled, forgotten or 24 hours idle), and what became of each case, without content.
cases = Table(
    "cases", metadata,
    Column("seller", String(64), primary_key=True),
    Column("draft", Text, nullable=False),      # the answers so far (JSON)
    Column("version", Integer, nullable=False, default=1),  # +1 at each answer (compare-and-set)
    Column("started", Text, nullable=False),
    Column("updated", Text, nullable=False),
    Index("idx_cases_updated", "updated"),
)

case_outcomes = Table(
    "case_outcomes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("platform", String(80)),     # a platforms.yaml name, or "other"
    Column("problem", String(40)),      # a cases.yaml problem id, or none
    Column("outcome", String(20), nullable=False),  # completed / cancelled / expired
    Index("idx_case_outcomes_at", "at"),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),
)
