"""A scikit-learn band-gap regressor on the Materials Project dielectric dataset."""
