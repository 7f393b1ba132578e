"""Insights: curated marts over the Iceberg tables, exports, `splake serve` and the static HTML report.

- :mod:`splake.insights.marts` — the marts, declared as data (name, description, Trino SQL, required tables).
- :mod:`splake.insights.dialect` — Trino → DuckDB transpilation (the same SQL runs on Athena).
- :mod:`splake.insights.source` — where SQL runs: the curated lake (DuckDB views) or any DuckDB connection.
- :mod:`splake.insights.runner` — availability, filters and chart series for marts.
- :mod:`splake.insights.health` — pipeline health from the report ledger and lake row counts.
- :mod:`splake.insights.export` — write an Arrow table as CSV / Parquet / JSON.
- :mod:`splake.insights.app` — the Starlette web app behind `splake serve`.
- :mod:`splake.insights.report` — the self-contained static HTML report.
"""
