"""The `ick` command-line tool (click): talks to the daemon over the HTTP API."""
