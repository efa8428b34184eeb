"""Routing's pure domain: directory, routing decisions, case lifecycle. No I/O."""
