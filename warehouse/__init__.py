"""The DuckDB warehouse: connecting, migrating, and the named queries the rest of the code uses."""
