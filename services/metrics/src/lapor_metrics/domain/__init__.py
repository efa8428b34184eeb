"""Metrics' pure domain: which counters an event moves. No I/O."""
