"""Interactive folium maps of zones, for reviewers, the public and offline site visits."""
