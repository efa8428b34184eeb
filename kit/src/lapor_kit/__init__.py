"""Lapor's small runtime kit (the only code services share besides ``lapor_schemas``)."""
