"""Pure domain code: geometry, measures, rules. No database, no HTTP, no files."""
