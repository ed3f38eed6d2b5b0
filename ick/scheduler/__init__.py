"""The controller: the pure build state machine and the async driver that persists and acts."""
