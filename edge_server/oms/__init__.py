"""The order management (OMS) module: channel orders, available-to-promise and reservations,
channel sync, sourcing across sites, release to the sites' edge servers, backorders, customer
e-mails and returns. It has its own SQLite database and talks to sites only over their
integration API and webhooks, never through their database (docs/oms.md)."""
