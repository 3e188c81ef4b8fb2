"""The REST endpoints, one module per resource."""
