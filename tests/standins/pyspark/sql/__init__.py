"""Stand-in for pyspark.sql (tests only): just the types module.

There is deliberately no SparkSession here: code that looks for an active
session (SparkSession.getActiveSession()) finds none, as on a laptop.
"""
