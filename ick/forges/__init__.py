"""Forges (Forgejo and Gitea, GitHub, GitLab): one record each (forge.py is the seam) saying
how a forge signs and words its webhooks and where and how it takes a commit status;
catalog.py lists them, config.py checks a project's `forge:`."""
