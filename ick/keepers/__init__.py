"""What the daemon keeps in memory and checks requests against: tokens, web sessions and login
links, secrets (with the masking of running builds' logs). Below both `api` and `ui`.
"""
