"""Tables in: read files into pandas, infer and check the schema, profile the data."""

from verdict.data._io import read_table

__all__ = ["read_table"]
