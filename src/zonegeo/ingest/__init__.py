"""Turning uploaded files into domain objects in EPSG:4490, or into precise, located errors."""
