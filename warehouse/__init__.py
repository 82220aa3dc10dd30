"""The DuckDB warehouse: connecting, migrating, and the named queries the rest of the code uses.

The write side: `write.py` (a batch of the load stage, in one transaction), `realign.py` (every
paragraph pair recomputed from stored text), `runs.py` (the ledger), `rows.py` (the appender and the
row shapes both writers use), `stored.py` (what is stored, read back for the writers). The read side is
apart in `read/`.
"""
