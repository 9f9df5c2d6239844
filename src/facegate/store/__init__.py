"""Storage adapters: SQLAlchemy repositories, Alembic migrations and template encryption."""
