"""Users, PINs, login tokens, handheld pairing and API keys."""
