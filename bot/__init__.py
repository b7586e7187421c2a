"""Assistance line for field staff: a Matrix (Tchap) bot with a FAQ, guided flows and tickets.

Packages by idea, imports pointing one way only (tests/test_layout.py):
drivers (cli, console, demo) -> matrix/ -> helpdesk.py -> storage/ -> desk/ -> conversation/ -> answering/
-> the shared modules here (config, messages, texts, errors, yamlfile).
"""
import os

# numpy's BLAS would start a thread per core for the semantic matcher's small products; on the
# 2-core machines the bot runs on, they fight the encoder and the event loop (training the FAQ's
# classifier took 6 s instead of 0.7 s under load). Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
