"""Hotspots (热点): the problems callers repeat in the same place, and the text clustering behind
them."""
