"""The warehouse domain: ledger, layout, items and the workflows built on them."""
