"""Answering: which FAQ entry answers one message, if any, and the files that decision reads.

    faq.py         faq/*.yaml parsed into entries, every mistake a `file:line` problem; topics.yaml,
                   the catalogue of topic ids
    lexicon.py     how agents write (faq/lexique.yaml): SMS spellings, elisions, typos, synonyms
    matching.py    scoring, and the answer / clarify / none decision
    evaluation.py  per-topic results on a labelled set (`helpdesk-bot faq eval`)

It decides on one message at a time and knows nothing of a conversation. May import only the shared
modules at the top of bot/ (config, errors, messages, texts, yamlfile).
"""
