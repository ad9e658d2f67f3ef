"""Pydantic models of the API contract and of stored items."""
