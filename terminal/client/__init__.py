"""The handheld's connection to its edge server: API calls, the offline command queue and its
replay (no Kivy)."""
