"""shoplog: generate, load and model an append-only shop event log."""
