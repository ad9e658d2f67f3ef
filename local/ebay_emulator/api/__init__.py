"""HTTP faces of the emulator: one module per eBay API, plus the admin API."""
