"""The SQL catalog (SQLAlchemy 2 over SQLite or PostgreSQL): ``hub.db.catalog.Catalog``."""
