"""The supervisors' web page: one summary of the floor (summary.py), pushed live over
server-sent events (stream.py), served with its static page (routes.py). See docs/dashboard.md."""
