"""Operating a site: backups and restores of its database, and Prometheus metrics
(docs/operations.md)."""
