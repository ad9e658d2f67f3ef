"""Tests of the local eBay emulator (`local/ebay_emulator`)."""
