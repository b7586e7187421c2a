"""Answering a question: FAQ, lexicon, lexical and semantic matching, the encoder seam."""
