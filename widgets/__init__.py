"""The Jupyter front ends of MatterHub (installed as ``hub.widgets``): ipywidgets panels
for faceted search, publishing and servable runs."""
