"""ick's persistent state: SQLite (all SQL lives in this package), logs and artifacts on disk."""
