"""Tables, sessions and the spatial queries of the registry (PostgreSQL + PostGIS)."""
