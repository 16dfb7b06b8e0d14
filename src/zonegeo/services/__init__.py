"""Use cases: the only place that combines ingest, domain, database and maps."""
