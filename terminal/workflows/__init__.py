"""Client scenario state machines: the handheld's side of receiving, putaway, picking, packing
(no Kivy). Screens render a workflow's `view()` and pass it scans and key presses."""
