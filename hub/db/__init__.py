"""The SQL database of a hub (SQLAlchemy 2 over SQLite or PostgreSQL): ``hub.db.database.Database``."""
