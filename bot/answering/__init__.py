"""Finding the answer to an agent's message: FAQ, lexicon, matching, and the checks on them."""
