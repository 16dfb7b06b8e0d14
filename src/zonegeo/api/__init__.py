"""The web layer: FastAPI app, JSON API and Chinese pages; thin adapters over the services."""
