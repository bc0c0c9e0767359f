"""Terminal scenario services: one per handheld workflow, with declared states."""
