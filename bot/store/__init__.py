"""SQL storage of the durable state, for SQLite and PostgreSQL alike (SQLAlchemy Core).

`schema` declares the tables, `migrations` brings any database to the latest version (safely when
several processes start at once), `engine` opens a database from a URL with the right settings.
`bot.state.State` is the only user: it names every query the bot runs.
"""
