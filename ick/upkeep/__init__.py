"""What keeps a daemon healthy for months: pruning, schedules, polls and downstream builds."""
