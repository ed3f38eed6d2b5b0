"""The worker side: takes actions from a controller, runs them in workspaces, reports back."""
