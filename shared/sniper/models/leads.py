"""A snipe's lead: how many seconds before an auction's end its bid goes out, set
per bid or as a user's default. Apart from the user and bid models so that the
bid routes load neither's; the rest of the timing rule is `sniper.snipe.timing`."""

MIN_SNIPE_LEAD_SECONDS = 3
MAX_SNIPE_LEAD_SECONDS = 60
DEFAULT_SNIPE_LEAD_SECONDS = 5
