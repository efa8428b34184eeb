"""Lapor's citizen portal: server-rendered pages (Jinja2, autoescaped) that work without
JavaScript, over intake's, notify's and metrics' public HTTP APIs. It owns no case data."""
