"""The knowledge base: stores the indexes and answers questions with cited clauses."""
