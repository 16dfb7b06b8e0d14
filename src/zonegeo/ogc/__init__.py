"""OGC API – Features of what the public may see (issue 14): pygeoapi over the published views of migration 0013."""
