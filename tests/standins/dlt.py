"""Stand-in for Databricks' dlt module (tests only): records what a pipeline
source defines instead of building a pipeline.

    import dlt
    @dlt.table(name="vendors", comment="...")
    def vendors():
        return spark.read.json(...)
    dlt.tables   # [Definition(name="vendors", comment="...", function=vendors, options={})]

Like the real decorator, table() is used bare (@dlt.table) or with keyword
arguments, the name defaults to the function's name, and the function is
returned unchanged: it is not called (DLT calls it later, when it plans and
runs the update). Defining a second dataset with a name already taken
raises ValueError (DLT refuses the pipeline). reset() forgets everything.
"""
import collections

Definition = collections.namedtuple("Definition", "name comment function options")

tables = []     # Definitions, in the order the source made them


def table(query_function=None, *, name=None, comment=None, spark_conf=None,
          table_properties=None, path=None, partition_cols=None, cluster_by=None,
          schema=None, temporary=False, row_filter=None, private=None):
    """@dlt.table or @dlt.table(name=..., comment=..., ...)."""
    given = {"spark_conf": spark_conf, "table_properties": table_properties, "path": path,
             "partition_cols": partition_cols, "cluster_by": cluster_by, "schema": schema,
             "temporary": temporary or None, "row_filter": row_filter, "private": private}
    options = {k: v for k, v in given.items() if v is not None}

    def register(function):
        if not callable(function):
            raise TypeError("dlt.table decorates a function, not %r" % (function,))
        dataset = name or function.__name__
        if any(t.name == dataset for t in tables):
            raise ValueError("dataset '%s' is defined twice" % dataset)
        tables.append(Definition(dataset, comment, function, options))
        return function

    return register(query_function) if query_function is not None else register


def reset():
    del tables[:]
