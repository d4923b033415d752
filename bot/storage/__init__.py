"""Storage: SQLAlchemy 2 Core tables, an engine from a URL, and small repositories."""
