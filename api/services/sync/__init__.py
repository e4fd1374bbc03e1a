"""Awarding bodies changing content: drafts saved, published and withdrawn (lifecycle), what changed between two
versions (diff), and the change feed sync clients poll (changes)."""
