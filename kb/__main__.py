"""`python -m kb …`: the knowledge base's command line (kb/cli/main.py)."""
import sys

from kb.cli.main import entry

if __name__ == "__main__":
    sys.exit(entry())
