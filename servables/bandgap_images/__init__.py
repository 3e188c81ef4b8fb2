"""Stein et al. (2019): band gaps from optical images, on a labelled stand-in."""
