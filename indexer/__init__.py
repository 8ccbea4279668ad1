"""Builds the knowledge base: loads, parses, chunks, embeds and indexes the policy corpus."""
