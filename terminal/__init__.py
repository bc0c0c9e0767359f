"""The Aisleway handheld terminal (Kivy app; networking, scanners and workflows import no Kivy)."""
