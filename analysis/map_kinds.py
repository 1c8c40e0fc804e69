"""The kinds of 2-D map (t-SNE, UMAP): how each is named to people and which can be inverted.

Kept apart from :mod:`analysis.results` (which imports every analysis) so the
dashboard can name and offer the kinds without importing the analyses at start.
"""

from __future__ import annotations

#: Every kind of 2-D map and how it is named to people; the order is the picker's within one input.
MAP_NAMES = {"tsne": "t-SNE", "umap": "UMAP"}
#: Kinds whose maps can turn a 2-D point into a z (t-SNE has no inverse).
INVERTIBLE_MAPS = ("umap",)
