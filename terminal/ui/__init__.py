"""The Kivy app: thin screens over the workflows, scanners and edge client (only this package
imports Kivy, and only its `app`, `feedback`, `wedge_binding` and `screens` modules do)."""
