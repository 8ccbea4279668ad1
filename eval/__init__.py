"""Evaluation of the knowledge assistant: the dev set, the scorer (metrics.py) and the runner (python -m eval)."""
