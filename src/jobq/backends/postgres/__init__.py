"""The PostgreSQL backend (``pip install 'jobq[postgres]'``): psycopg 3 and its connection pool."""

from jobq.backends.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
