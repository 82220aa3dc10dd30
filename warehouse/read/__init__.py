"""The read side: what users ask of the warehouse. Read-only connections only; nothing here writes
the warehouse.

- `query.py`: SQL a user types (`breaknews query`, `breaknews runs`)
- `search.py`: ranked search over titles and bodies
- `export.py`: pairs and articles to JSON Lines, Parquet, TMX
- `report.py`: one self-contained HTML page
- `destination.py`: where exports and the report may write (never the warehouse), whole or not at all
- `catalog.py`: the tables, views and columns with their comments (docs/schema.md is rendered from them)
"""
