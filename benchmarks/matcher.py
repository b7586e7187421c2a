"""How fast the matcher builds its index and decides, on the real FAQ and on big synthetic ones.

    .venv/bin/python benchmarks/matcher.py [--seed N] [--messages N]

For each FAQ (the real one, then 1,000 and 10,000 synthetic entries) it prints the index build
time, the latency of `decide()` per message (p50, p99, max) over about a thousand generated
messages (short, long, with typos, off-topic), and the peak memory the index build allocates
(tracemalloc, measured on a separate build so it does not slow the timed one). Synthetic
entries are French-looking: topic words drawn from real French words and a few thousand
pseudo-words, eight example questions each, and keywords, built as bot.answering.faq.Entry directly.
The messages are generated here; the shared evaluation sets are not used.
Targets: decide() p99 <= 2 ms with 1,000 entries and <= 20 ms with 10,000 (median of --repeat cold runs).
"""
from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.answering.faq import Entry, Faq, load_faq  # noqa: E402
from bot.answering.lexicon import load_lexicon  # noqa: E402
from bot.answering.matching import Matcher  # noqa: E402

TARGETS_MS = {1_000: 2.0, 10_000: 20.0}  # p99 of decide(), by number of entries

FRENCH = """
absence accueil achat adresse agenda agent aide alarme annonce annuaire appel archive armoire
arret assurance atelier attestation autorisation avance bail bibliotheque billet bureau cadre
calendrier camion cantine carnet carte casier certificat chaise chantier chauffage classe client
cle commande compte conge contrat convention courrier cuisine dossier document dotation ecran
effectif electricite entretien equipement espace etage evaluation facture fenetre fiche formation
fournisseur frais garage gestion gilet gymnase habilitation horaire hygiene imprimante indemnite
inscription intervention inventaire jardin lavage livraison local logement machine materiel
menage mission mobilier mutuelle nettoyage note outil panne papier parking permis photocopie
piece planning poste prime produit projet protection quittance reclamation registre reglement
remplacement reparation reservation restauration retraite reunion salle securite semaine serrure
signature stage stock tablette tenue traitement uniforme vaisselle vehicule vestiaire visite
demande changer obtenir perdu casse oublie bloque valider envoyer recevoir remplir signer payer
modifier annuler ajouter supprimer consulter imprimer reserver commander renouveler declarer
""".split()
STOP = "je j ai mon ma mes le la les de du des un une pour sur avec est pas comment ou quand il faut".split()
SYLLABLES = [c + v for c in "bcdfgjklmnprstvz" for v in ("a", "e", "i", "o", "u", "ou", "an", "on", "er")]
STORY = ("bonjour alors voila ce matin en arrivant au travail ma responsable m a dit que "
         "je devais voir avec vous parce que depuis lundi").split()


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def synthetic_faq(rng: random.Random, size: int, vocabulary: list[str]) -> Faq:
    """`size` entries; each has a few topic words reused across its 8 questions and keywords."""
    entries = []
    for number in range(size):
        topic = rng.sample(vocabulary, 4)
        questions = []
        for _ in range(8):
            words = rng.sample(topic, rng.randint(2, 4)) + rng.sample(vocabulary, rng.randint(0, 2))
            words += rng.sample(STOP, rng.randint(1, 4))
            rng.shuffle(words)
            questions.append(" ".join(words))
        entries.append(Entry(id=f"synth.{number}", title=" ".join(topic[:2]), kind="answer", answer="...",
                             flow=None, questions=tuple(questions),
                             keywords=(topic[0], " ".join(topic[:2]), topic[1]), exclude=(),
                             file="synthetic", line=number + 1))
    return Faq(tuple(entries))


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "double", "swap", "replace"))
    if edit == "drop":
        return word[:i] + word[i + 1:]
    if edit == "double":
        return word[:i] + word[i] + word[i:]
    if edit == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeioustrn") + word[i + 1:]


def messages(rng: random.Random, faq: Faq, vocabulary: list[str], count: int) -> list[str]:
    """Short, long (a story around the question), with typos, and off-topic, in equal parts."""
    out = []
    for n in range(count):
        entry = rng.choice(faq.entries)
        words = rng.choice(entry.questions).split()
        style = n % 4
        if style == 0:    # short: two or three words of the question
            words = rng.sample(words, min(len(words), rng.randint(1, 3)))
        elif style == 1:  # long: the agent tells the story first
            words = STORY[:rng.randint(6, len(STORY))] + words + rng.sample(vocabulary, 3)
        elif style == 2:  # typed fast on a phone
            words = [typo(rng, w) if rng.random() < 0.4 else w for w in words]
        else:             # off-topic, with the same kind of words
            words = rng.sample(vocabulary, rng.randint(3, 8)) + rng.sample(STOP, 3)
        out.append(" ".join(words))
    return out


def lexicon():
    """A fresh lexicon per build: the matcher teaches it the FAQ's words."""
    lexicon, problems = load_lexicon(ROOT / "faq" / "lexique.yaml")
    if problems:
        raise SystemExit("\n".join(map(str, problems)))
    return lexicon


def measure(name: str, faq: Faq, thresholds, texts: list[str], repeat: int) -> dict:
    """Build and run cold `repeat` times (this machine may be shared: the median run is reported),
    then once warm; then one more build under tracemalloc for its peak memory."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        matcher = Matcher(faq, lexicon(), thresholds)
        build = time.perf_counter() - started
        latencies = []
        for text in texts:  # cold: every typo correction is computed, as for a new message
            started = time.perf_counter()
            matcher.decide(text)
            latencies.append((time.perf_counter() - started) * 1000)
        cuts = statistics.quantiles(latencies, n=100)
        runs.append({"build": build, "p50": cuts[49], "p99": cuts[98], "max": max(latencies)})
    warm, counts = [], dict.fromkeys(("answer", "clarify", "none"), 0)
    for text in texts:  # warm: the typo cache already knows these words
        started = time.perf_counter()
        kind = matcher.decide(text).kind
        warm.append((time.perf_counter() - started) * 1000)
        counts[kind] += 1
    del matcher
    tracemalloc.start()
    Matcher(faq, lexicon(), thresholds)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {"name": name, "entries": len(faq.entries), **median, "p99_runs": [run["p99"] for run in runs],
            "warm_p99": statistics.quantiles(warm, n=100)[98], "peak_mb": peak / 2**20,
            "kinds": " ".join(f"{k}={n}" for k, n in counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="cold runs per FAQ; the median is reported")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    config = load_config(ROOT / "config.example.yaml")
    real, _ = load_faq(config.faq_dir, config.variables)
    vocabulary = sorted(set(FRENCH) | set(pseudo_words(rng, 3000)))
    real_vocabulary = sorted({w for e in real.entries for q in e.questions for w in q.lower().split()}) + FRENCH

    print(f"python {sys.version.split()[0]}, seed {args.seed}, {args.messages} messages per FAQ, {args.repeat} cold runs (median), "
          f"vocabulary {len(vocabulary)} words ({len(FRENCH)} French)")
    results = [measure("real FAQ", real, config.thresholds, messages(rng, real, real_vocabulary, args.messages), args.repeat)]
    for size in (1_000, 10_000):
        faq = synthetic_faq(rng, size, vocabulary)
        results.append(measure(f"synthetic {size:,}", faq, config.thresholds, messages(rng, faq, vocabulary, args.messages), args.repeat))

    print(f"\n{'FAQ':16} {'entries':>7} {'build s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'warm p99':>8} {'peak MB':>8}  decisions")
    for r in results:
        print(f"{r['name']:16} {r['entries']:>7} {r['build']:>8.2f} {r['p50']:>7.3f} {r['p99']:>7.3f} {r['max']:>7.2f} "
              f"{r['warm_p99']:>8.3f} {r['peak_mb']:>8.1f}  {r['kinds']}")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS: {maxrss:.0f} MB (ru_maxrss); peak MB above = tracemalloc peak of one index build")
    print("targets (p99 of decide, cold):")
    for r in results:
        target = TARGETS_MS.get(r["entries"])
        if target is not None:
            verdict = "met" if r["p99"] <= target else "NOT met"
            runs = ", ".join(f"{p:.2f}" for p in r["p99_runs"])
            print(f"  {r['entries']:>6} entries: p99 {r['p99']:.3f} ms <= {target:g} ms  {verdict}  (runs: {runs})")


if __name__ == "__main__":
    main()
