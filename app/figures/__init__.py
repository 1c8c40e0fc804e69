"""Figure builders: pure functions from arrays to ``plotly.graph_objects.Figure``.

They never read files or caches; callbacks hand them arrays. Arrays are passed
as float32 numpy arrays so plotly sends them as typed arrays (~4 bytes per value)
instead of JSON number lists.
"""
