"""Ward et al. (2019): G4MP2 atomization energies by delta-learning from B3LYP."""
