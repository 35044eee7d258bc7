"""The user's data on its way in: reading a table, profiling it, turning it into features and a
target for the task, and splitting its rows."""
