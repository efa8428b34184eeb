"""Benchmarks (``make bench``): the pipeline against a raw aiokafka + pymongo baseline on the
same broker and store. Not part of the test suite."""
