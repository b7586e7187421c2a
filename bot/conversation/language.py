"""Which language an agent writes in: French (the default) or English. Pure and tiny on purpose.

Agents write French with English words in it ("mon mail", "le wifi", "ok", "forget mon password"):
that is French, and answering it in English would be a slap. So a message reads as English only on
evidence: at least MIN_WORDS English function words ("my", "how", "can", "the"...) or English-only
words ("forgot", "payslip"), and more than twice as many as its French ones ("je", "le", "pour",
"bjr"...). A message with neither kind of evidence ("hello", "mdp oublie", "17h") says nothing.

The conversation keeps one language per agent with hysteresis (`follow`): it changes only on a
message that clearly reads as the other language, never on one word. Measured on the labelled sets
by benchmarks/language.py.
"""
from __future__ import annotations

import re

MIN_WORDS = 2
DOMINANCE = 2  # English words must outnumber French ones this many times over

ENGLISH = frozenset("""
i i'm i've i'd you your my mine we our they their he she his her it it's its this that these those
the is are was were am be been being do does did don't doesn't didn't can can't cannot could couldn't
will won't would wouldn't should shall may might must have has had haven't hasn't
how what what's where where's who who's whom which when why whose there there's here
to of for with from at by about into after before since until in out up down off over under again
and or but not so if than then too very also just only any some many much more most no yes
get got getting give send tell help need want know think see find use try keep let make take
please thanks thank hello hi hey bye goodbye sorry okay
forgot forget lost stolen broken wrong missing locked work job account payslip payslips salary
email emails mailbox phone clock clocking receipt pass anymore anyone someone something nothing everything
new old last next first same other each every all both own yesterday today tomorrow morning night
""".split())

FRENCH = frozenset("""
je j' tu il elle nous vous ils elles me m' te t' se s' moi toi lui leur leurs y en
le la les l' un une des du de d' au aux ce c' ça ca cet cette ces mon ma mes ton ta tes son sa ses notre nos votre vos
est suis es sont etait était ai as avons avez ont à fait faut peut peux veux voudrais dois doit
et ou où mais donc car ni que qu' qui quoi quand comment pourquoi combien quel quelle quels quelles
pour par sur sous dans avec sans chez vers depuis pendant avant après entre contre
pas ne n' plus rien jamais toujours encore déjà aussi très trop bien mal
oui non merci bonjour bonsoir salut bjr slt stp svp cc coucou jai jsuis chui c'est g
""".split())
# Neither list holds words both languages use: "a", "on", "me", "pour" vs "pour", "no"...

_WORD = re.compile(r"[a-zà-öø-ÿœ]+(?:'[a-z]*)?|[a-zà-öø-ÿœ]+")


def words_of(text: str) -> list[str]:
    """Lower-case words, elisions kept apart from their word ("l'app" -> "l'", "app")."""
    out = []
    for word in _WORD.findall(text.lower().replace("’", "'")):
        if "'" in word and word.split("'")[0] + "'" in FRENCH:
            head, tail = word.split("'", 1)
            out += [head + "'", tail] if tail else [head + "'"]
        else:
            out.append(word)
    return out


def evidence(text: str) -> tuple[int, int]:
    """(English words, French words) of the message."""
    found = words_of(text)
    return sum(w in ENGLISH for w in found), sum(w in FRENCH for w in found)


def detect(text: str) -> str | None:
    """"en" or "fr" when the message clearly is, else None (one word, a number, franglais leans French)."""
    english, french = evidence(text)
    if english >= MIN_WORDS and english > DOMINANCE * french:
        return "en"
    if french >= MIN_WORDS and french >= english:
        return "fr"
    return None


def follow(current: str, text: str) -> str:
    """The conversation's language after this message: it changes only on clear evidence."""
    return detect(text) or current
