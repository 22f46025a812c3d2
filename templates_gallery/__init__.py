"""Industry templates (JSON bundles) and their loader; bundles arrive with the template issue."""
