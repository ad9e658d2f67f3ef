"""The eBay Sniper's shared package: settings, models, services and adapters.

It ships to Lambda as a layer (mounted at /opt/python), so no module may do work at
import time that needs AWS or the network.
"""
