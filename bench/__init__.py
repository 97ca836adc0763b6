"""bin/bench: synthesis time against its floor (bench/run.py)."""
