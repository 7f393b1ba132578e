"""Report pipeline: declarations (types.py + the catalog), planning, ledger, decode, parse, ingest."""

from splake.reports import catalog as catalog  # registers the catalog's report types
