"""Continuous delivery (DESIGN.md, "Continuous delivery"): deployments of a build's outputs
to a project's environments, one at a time per environment, with approvals and roll-back."""
