"""Business rules: no Lambda events, no HTTP, only repositories and clients."""
