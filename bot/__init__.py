"""Assistance line for field staff: a Matrix (Tchap) bot with a FAQ, guided flows and tickets.

Packages by idea, imports pointing one way only (tests/test_layout.py):
drivers (cli, console, demo) -> matrix/ -> helpdesk.py -> storage/ -> desk/ -> conversation/ -> answering/
-> the shared modules here (config, messages, texts, errors, yamlfile).
"""
