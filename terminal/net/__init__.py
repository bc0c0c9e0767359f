"""Terminal networking without Kivy: API client, offline outbox, discovery, connectivity."""
