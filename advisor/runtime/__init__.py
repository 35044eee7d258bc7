"""Running under a budget: deadlines that reach inside training loops, what a fit costs, the
watchdog for a fit that ignores its deadline, Ctrl-C handling and Optuna's log level."""
