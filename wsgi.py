"""The only module a server imports: ``gunicorn wsgi:app``."""

import gc

from server import create_app

app = create_app()

# Garbage collection, measured by bench/chat_fanout.py (figures in bench/README.md):
# - what is loaded by now (modules, mappers, schemas, routes) lives as long as the process:
#   frozen, a full collection scans only what requests and sockets made (it was 150 ms);
# - a Socket.IO process holds every delivery in a queue until it is written, so the default
#   young-generation threshold (700 allocations) promoted them by the thousand and ran full
#   collections that held up every socket: collect the young one every 50,000 instead.
gc.freeze()
if app.config["SOCKETIO_ASYNC_MODE"] == "gevent":
    gc.set_threshold(50_000, 20, 10)
