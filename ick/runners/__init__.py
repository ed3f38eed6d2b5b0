"""The worker side: one module per action type behind the `Runner` interface in `base`."""
