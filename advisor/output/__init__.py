"""What the user sees besides the JSON document: terminal tables, progress lines, the HTML
report and the samples it shows."""
