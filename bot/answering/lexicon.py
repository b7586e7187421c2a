"""How agents write, as data: faq/lexique.yaml, and the normalisation that applies it.

A message goes through, in order: lower case and accents removed; SMS spellings expanded
(mdp -> mot de passe, jai -> j ai); elisions split (lappli -> l appli); typos corrected against
the words the FAQ and the lexicon know (by edit distance, then by a rough French sound key);
phrases and words replaced by their concept (badgeuse, pointeuse -> badgeuse); the rest lightly
stemmed. Each resulting term says what it is: a concept or word that carries the question, a
context word that only sets the scene, a politeness formula, or an unknown word.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import OSA
from rapidfuzz import process

from ..errors import Problem
from ..yamlfile import Mapping, load_file, load_text

SECTIONS = ("abreviations", "synonymes", "mots_vides", "contexte", "politesse", "hors_sujet")
APOSTROPHES = re.compile(r"[’'`´‘]")
NON_WORD = re.compile(r"[^a-z0-9]+")
REPEATS = re.compile(r"([a-z])\1{2,}")
ELIDED = "ldjmtsnc"
NUMBER = re.compile(r"\d+(h\d*|er|e|eme|%)?")


@dataclass(frozen=True, kw_only=True)
class Term:
    """One meaningful unit of a message after normalisation."""

    text: str
    kind: str  # "concept" | "word" | "context" | "politeness" | "foreign" | "unknown"


@dataclass
class Lexicon:
    """The lexicon as lookup tables; `vocabulary` grows with the FAQ's own words at index time."""

    abbreviations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)  # word sequence -> concept
    stopwords: frozenset[str] = frozenset()
    context: frozenset[str] = frozenset()
    politeness: dict[tuple[str, ...], str] = field(default_factory=dict)
    foreign: frozenset[tuple[str, ...]] = frozenset()  # look-alike subjects that are not ours
    vocabulary: set[str] = field(default_factory=set)
    core: frozenset[str] = frozenset()  # the lexicon's own words (the FAQ may spell "lappli" too)
    _max_phrase: int = 1
    _corrections: dict[str, str | None] = field(default_factory=dict)
    _by_length: dict[int, list[str]] = field(default_factory=dict)
    _windows: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # known words near a length
    _by_sound: dict[str, str] = field(default_factory=dict)

    def learn(self, words: set[str]) -> None:
        """Add words the FAQ uses, so typos can be corrected towards them."""
        self.vocabulary |= words
        self._corrections.clear()
        self._by_length = {}
        self._windows = {}
        for word in sorted(self.vocabulary):
            if len(word) >= 4 and not word.isdigit():
                self._by_length.setdefault(len(word), []).append(word)
                self._by_sound.setdefault(sound(word), word)

    def terms(self, text: str) -> list[Term]:
        """The normalised terms of a message, in order."""
        words = [self.correct(w) for w in self.expand(surface(text))]
        return self._group(words)

    def expand(self, words: list[str]) -> list[str]:
        """SMS spellings expanded and elisions split, before any typo correction."""
        out: list[str] = []
        for word in words:
            if word in self.abbreviations:
                out += self.abbreviations[word]
            elif word not in self.core and len(word) >= 3 and word[0] in ELIDED and self._known(word[1:]):
                out += [word[0], *self.abbreviations.get(word[1:], (word[1:],))]
            elif word not in self.vocabulary and word.startswith("qu") and word[2:] in self.vocabulary:
                out += ["qu", word[2:]]
            else:
                out.append(word)
        return out

    def _known(self, word: str) -> bool:
        return word in self.vocabulary or word in self.abbreviations

    def correct(self, word: str) -> str:
        """The known word closest to `word`, or `word` itself when nothing is close enough."""
        if word in self.vocabulary or len(word) < 4 or word.isdigit():
            return word
        if word not in self._corrections:
            self._corrections[word] = self._closest(word)
        return self._corrections[word] or word

    def _closest(self, word: str) -> str | None:
        if len(word) <= 5:  # meteo is not metro: short words only by a swap (bagde) or by sound
            swapped = [w for w in self._by_length.get(len(word), ()) if w[0] == word[0] and sorted(w) == sorted(word)
                       and OSA.distance(w, word) == 1]
            key = sound(word)
            return swapped[0] if swapped else self._by_sound.get(key) if len(key) >= 4 else None
        limit = 1 if len(word) <= 9 else 2  # commander is not commencer; a swap (bagdeuse) counts 1
        window = (len(word), limit)
        if window not in self._windows:
            self._windows[window] = [w for n in range(len(word) - limit, len(word) + limit + 1)
                                     for w in self._by_length.get(n, ())]
        candidates = self._windows[window]
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=limit)
        # typos rarely touch the first letters: simplement is not supplement
        if found and found[0][0] == word[0] and (found[1] <= 1 or found[0][1] == word[1]):
            return found[0]
        return self._by_sound.get(sound(word))

    def _group(self, words: list[str]) -> list[Term]:
        terms: list[Term] = []
        i = 0
        while i < len(words):
            size, term = self._phrase_at(words, i)
            terms.append(term)
            i += size
        return [t for t in terms if t.text]

    def _phrase_at(self, words: list[str], i: int) -> tuple[int, Term]:
        for size in range(min(self._max_phrase, len(words) - i), 0, -1):
            key = tuple(words[i:i + size])
            if key in self.phrases:
                return size, Term(text=self.phrases[key], kind="concept")
            if key in self.politeness:
                return size, Term(text=self.politeness[key], kind="politeness")
            if key in self.foreign:
                return size, Term(text="!" + "_".join(key), kind="foreign")
        word = words[i]
        if word in self.stopwords:
            return 1, Term(text="", kind="word")
        if word in self.context or NUMBER.fullmatch(word):  # a year, a date, 7h30: they set the scene
            return 1, Term(text=stem(word), kind="context")
        kind = "word" if word in self.vocabulary else "unknown"
        return 1, Term(text=stem(word), kind=kind)


def surface(text: str) -> list[str]:
    """Lower case, no accents, no punctuation, letters repeated for emphasis reduced."""
    text = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = APOSTROPHES.sub(" ", text)
    text = REPEATS.sub(r"\1", NON_WORD.sub(" ", text))
    return text.split()


def stem(word: str) -> str:
    """A light French stemmer: enough to join oublie/oublier/oubliee, not a linguist's one."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in ("ements", "ement", "ations", "ation", "ees", "ee", "er", "ez", "es", "e", "s", "x"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


SOUNDS = [("ph", "f"), ("qu", "k"), ("ck", "k"), ("c([eiy])", r"s\1"), ("c", "k"), ("g([eiy])", r"j\1"),
          ("gu", "g"), ("mp", "n"), ("eau", "o"), ("au", "o"), ("ai", "e"), ("ei", "e"), ("em", "an"),
          ("en", "an"), ("am", "an"), ("y", "i"), ("h", ""), ("w", "v"), ("z", "s"), ("x", "ks"),
          (r"([a-z])\1", r"\1"), ("[estdpx]+$", "")]
SOUND_RULES = [(re.compile(a), b) for a, b in SOUNDS]


def sound(word: str) -> str:
    """A rough French sound key: badjeuse ~ badgeuse, conteur ~ compteur, electronik ~ electronique."""
    for pattern, replacement in SOUND_RULES:
        word = pattern.sub(replacement, word)
    return word


def load_lexicon(path: Path) -> tuple[Lexicon, list[Problem]]:
    data, problems = load_file(path)
    return (Lexicon(), problems) if problems else lexicon_from_data(data, str(path))


def load_lexicon_text(text: str, name: str = "lexique.yaml") -> tuple[Lexicon, list[Problem]]:
    data, problems = load_text(text, name)
    return (Lexicon(), problems) if problems else lexicon_from_data(data, name)


def lexicon_from_data(data: object, name: str) -> tuple[Lexicon, list[Problem]]:
    """Build the lookup tables; every malformed line is a Problem, the rest still loads."""
    if not isinstance(data, Mapping):
        return Lexicon(), [Problem(file=name, line=1, message=f"le lexique doit contenir les sections {', '.join(SECTIONS)}")]
    problems = [Problem(file=name, line=data.line_of(k), message=f"section inconnue « {k} » (possibles : {', '.join(SECTIONS)})")
                for k in data if k not in SECTIONS]
    shapes = {"abreviations": dict, "synonymes": dict, "mots_vides": list, "contexte": list, "politesse": (dict, list),
              "hors_sujet": list}
    for section, shape in shapes.items():
        if data.get(section) is not None and not isinstance(data[section], shape):
            what = "une liste [mot, mot, ...]" if shape is list else "des lignes « mot: sens »"
            line = getattr(data[section], "line", 0) or data.line_of(section)
            problems.append(Problem(file=name, line=line, message=f"section « {section} » : attendu {what}"))
            data[section] = shape[0]() if isinstance(shape, tuple) else shape()
    lex = Lexicon()
    abbreviations = data.get("abreviations") or {}
    for short, full in abbreviations.items():
        if not isinstance(full, str) or len(surface(str(short))) != 1:
            problems.append(Problem(file=name, line=abbreviations.line_of(short),
                                    message=f"abréviation « {short} » : un seul mot à gauche, le texte complet à droite "
                                            "(pour une expression, utilisez « synonymes »)"))
            continue
        lex.abbreviations[surface(str(short))[0]] = tuple(surface(full))
    synonyms = data.get("synonymes") or {}
    for concept, forms in synonyms.items():
        if not isinstance(forms, list) or not forms:
            problems.append(Problem(file=name, line=synonyms.line_of(concept), message=f"synonymes de « {concept} » : donnez une liste [mot, expression, ...]"))
            continue
        for form in [concept, *forms]:
            lex.phrases.setdefault(tuple(surface(str(form))), f"_{concept}")
    lex.stopwords = frozenset(w for p in data.get("mots_vides") or [] for w in surface(str(p)))
    lex.context = frozenset(w for p in data.get("contexte") or [] for w in surface(str(p)))
    politeness = data.get("politesse") or {}
    groups = politeness.items() if isinstance(politeness, dict) else ((None, politeness),)
    for group, phrases in groups:  # a group (remerciement: [merci, thx...]) is one term whatever the wording
        for phrase in phrases or []:
            words = tuple(surface(str(phrase)))
            lex.politeness[words] = "_" + (group or "_".join(words))
    lex.foreign = frozenset(tuple(surface(str(p))) for p in data.get("hors_sujet") or [] if surface(str(p)))
    lex.phrases.pop((), None)
    lex._max_phrase = max([len(k) for k in [*lex.phrases, *lex.politeness, *lex.foreign]] or [1])
    known = {w for k in [*lex.phrases, *lex.politeness, *lex.foreign] for w in k}
    known |= set(lex.stopwords) | set(lex.context) | {w for v in lex.abbreviations.values() for w in v}
    lex.core = frozenset(known)
    lex.learn(known)
    return lex, problems
