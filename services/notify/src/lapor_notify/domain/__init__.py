"""Notify's pure domain: which notifications an event causes, and their text."""
