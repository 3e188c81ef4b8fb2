"""Cherukara, Nashed & Harder (2018): coherent diffraction imaging with neural networks."""
