"""scripts/ingest_dlt.py: the file a Databricks DLT pipeline runs (its
source code) to load an Airtable base into Delta tables. The work is
airtable_sqlite.dlt's, whose docstring says how to set a pipeline up; the
airtable-sqlite package must be installed in the pipeline's environment.

From a shell, --local runs the whole pipeline here but Spark:

    AIRTABLE_TOKEN=pat... PYTHONPATH=python python3 scripts/ingest_dlt.py --local \\
        --base appXXXXXXXXXXXXXX --out DIR [--table NAME ...]

(PYTHONPATH=python in a checkout; --help for the rest.)
"""
import sys

try:
    from airtable_sqlite import dlt as _pipeline
except ImportError as e:
    if e.name != "airtable_sqlite":
        raise
    _message = ("ingest_dlt: the airtable_sqlite package is not importable: install the "
                "airtable-sqlite wheel (in Databricks, a dependency of the pipeline's "
                "environment), or, in a checkout, set PYTHONPATH=<checkout>/python")
    if __name__ == "__main__":
        sys.exit(_message)
    raise ImportError(_message) from None

# DLT runs this file as a pipeline source (under whatever module name): the
# tables are defined, with spark and dbutils taken from these globals.
_pipeline.entry(globals(), __name__)
