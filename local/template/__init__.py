"""Reading `template.yaml`: the one source of truth for tables, routes and functions."""
