"""The snipe: when it fires and bids (timing), what the schedule hands the executor
(events), and the one-time schedules themselves (scheduling)."""
