"""Stand-in for PySpark, for the tests only (PySpark is not installed here).

Only pyspark.sql.types is provided, written to match PySpark 3.5's names,
JSON format and behaviour (tests/standins/pyspark/sql/types.py). pytest puts
tests/standins on the import path (pyproject.toml's pythonpath), a test's
child process gets it in PYTHONPATH; nothing outside tests/ imports this.
"""
__version__ = "3.5.0+standin"
