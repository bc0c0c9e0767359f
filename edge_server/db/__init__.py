from edge_server.db.database import Database

__all__ = ["Database"]
