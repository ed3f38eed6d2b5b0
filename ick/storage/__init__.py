"""ick's persistent state: a repository per aggregate (all SQL lives in this package) over the
`Database` seam of db.py, SQLite behind it in sqlite.py; logs and artifacts on disk."""
